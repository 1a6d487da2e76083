#!/usr/bin/env bash
# Runs a command with AW_TEST_DIR on a freshly made filesystem of one kind, then removes
# every mount, loop device, image and process it made, also when the command fails.
#   with_fs.sh KIND COMMAND [ARGS...]
# KIND: ext4, ext4-noauto_da_alloc, xfs, btrfs, tmpfs, overlayfs, and FUSE filesystems
# without O_TMPFILE: fuse-nolink (no link()), fuse-norenameat2 (no RENAME_NOREPLACE),
# fuse-bare (neither).
# Exits 77 (ctest's skip) with the reason when it cannot run here (not root, no tools).
set -uo pipefail
kind=$1
shift
skip() { echo "SKIP: $kind: $*"; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "needs root for mount and loop devices"

work=$(mktemp -d "${TMPDIR:-/tmp}/aw-fs-$kind-XXXXXX")
mnt=$work/mnt
mkdir -p "$mnt"
chmod 755 "$work"  # tests run some steps as user nobody
mounts=()
daemon=
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[$i]}" 2>/dev/null || umount -l "${mounts[$i]}" 2>/dev/null
  done
  if [[ -n $daemon ]]; then kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A loop-mounted image; mount -o loop gives the loop device autoclear, so umount frees it.
image_mount() {  # size, mkfs command..., -- mount options
  local size=$1
  shift
  local mkfs=()
  while [[ $1 != -- ]]; do mkfs+=("$1"); shift; done
  shift
  command -v "${mkfs[0]}" >/dev/null || skip "${mkfs[0]} is not installed"
  truncate -s "$size" "$work/image" || skip "cannot create an image"
  "${mkfs[@]}" "$work/image" >/dev/null 2>&1 || skip "${mkfs[*]} failed"
  mount -o "loop${1:+,$1}" "$work/image" "$mnt" 2>/dev/null || skip "cannot loop-mount $kind"
  mounts+=("$mnt")
}

# AW_FS_SIZE overrides the image size (the benchmark needs room for 1 GiB files).
size() { echo "${AW_FS_SIZE:-$1}"; }
case $kind in
  ext4) image_mount "$(size 64M)" mkfs.ext4 -q -F -- "" ;;
  ext4-noauto_da_alloc) image_mount "$(size 64M)" mkfs.ext4 -q -F -- noauto_da_alloc ;;
  # Below xfsprogs' 300 MB floor only for test filesystems, which these variables declare.
  xfs) TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1 image_mount "$(size 64M)" mkfs.xfs -q -f -- "" ;;
  btrfs) image_mount "$(size 128M)" mkfs.btrfs -q -f -- "" ;;
  tmpfs)
    mount -t tmpfs -o size=64m tmpfs "$mnt" || skip "cannot mount tmpfs"
    mounts+=("$mnt")
    ;;
  overlayfs)
    mkdir -p "$work/base"
    mount -t tmpfs -o size=64m tmpfs "$work/base" || skip "cannot mount tmpfs"
    mounts+=("$work/base")
    mkdir -p "$work/base/lower" "$work/base/upper" "$work/base/work"
    mount -t overlay overlay -o "lowerdir=$work/base/lower,upperdir=$work/base/upper,workdir=$work/base/work" "$mnt" ||
      skip "cannot mount overlayfs"
    mounts+=("$mnt")
    ;;
  fuse-*)
    [[ -n ${AW_NOLINK_FS:-} && -x ${AW_NOLINK_FS:-} ]] || skip "aw_nolink_fs was not built (libfuse3-dev)"
    [[ -c /dev/fuse ]] || skip "no /dev/fuse"
    case $kind in
      fuse-nolink) refuse=link ;;
      fuse-norenameat2) refuse=renameat2 ;;
      fuse-bare) refuse=link,renameat2 ;;
      *) echo "unknown filesystem kind: $kind" >&2; exit 2 ;;
    esac
    mkdir -p "$work/backing"
    "$AW_NOLINK_FS" "$work/backing" "$mnt" "--refuse=$refuse" -f -o allow_other,default_permissions &
    daemon=$!
    for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
    mountpoint -q "$mnt" || skip "the FUSE filesystem did not mount"
    mounts+=("$mnt")
    ;;
  *) echo "unknown filesystem kind: $kind" >&2; exit 2 ;;
esac

chmod 1777 "$mnt"  # like /tmp
echo "== $kind at $mnt ($(findmnt -n -o FSTYPE,OPTIONS "$mnt"))"
AW_TEST_DIR=$mnt AW_FS_KIND=$kind "$@"
status=$?
exit $status
