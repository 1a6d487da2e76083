#!/usr/bin/env bash
# Runs each gtest binary given (with its arguments split on ':'), reports and fails if any
# failed. Used by the filesystem matrix: with_fs.sh KIND run_suites.sh BINARY...
set -u
passed=0
failed=0
for binary in "$@"; do
  if "$binary" --gtest_brief=1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $binary on ${AW_FS_KIND:-?}"
  fi
done
echo "${AW_FS_KIND:-?}: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
