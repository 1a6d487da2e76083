// The compiled half of the Python package: the durable steps run here, in the C++ core.
// The Python half (atomicwrites/__init__.py) keeps Python atomicwrites' API and hooks.
#include <atomicwrites/atomicwrites.hpp>

#include "backend.hpp"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>

namespace py = pybind11;
namespace aw = atomicwrites;
namespace fs = std::filesystem;

namespace {

// Paths arrive as bytes (os.fsencode on the Python side): passed to the OS unchanged.
fs::path to_path(const py::bytes& bytes) { return fs::path(std::string(bytes)); }

// Raises the OSError subclass Python itself would raise for this errno (FileExistsError,
// PermissionError, ...), with the phase and the published flag as extra attributes.
[[noreturn]] void raise_os_error(const std::error_code& ec, const fs::path& path1,
                                 const fs::path& path2 = {}) {
  py::object os_error = py::module_::import("builtins").attr("OSError");
  py::object error = path2.empty()
                         ? os_error(ec.value(), ec.message(), py::bytes(path1.native()))
                         : os_error(ec.value(), ec.message(), py::bytes(path1.native()), 0,
                                    py::bytes(path2.native()));
  // os.fsdecode'd names read better in tracebacks than bytes.
  py::object fsdecode = py::module_::import("os").attr("fsdecode");
  error.attr("filename") = fsdecode(error.attr("filename"));
  if (!path2.empty()) error.attr("filename2") = fsdecode(error.attr("filename2"));
  error.attr("phase") = aw::to_string(aw::failed_phase(ec));
  error.attr("published") = aw::was_published(ec);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
  throw py::error_already_set();
}

aw::durability parse_durability(const std::string& name) {
  if (name == "none") return aw::durability::none;
  if (name == "consistent") return aw::durability::consistent;
  if (name == "durable") return aw::durability::durable;
  throw py::value_error("durability must be 'none', 'consistent' or 'durable', not '" + name + "'");
}

aw::symlink_policy parse_symlinks(const std::string& name) {
  if (name == "follow") return aw::symlink_policy::follow;
  if (name == "replace") return aw::symlink_policy::replace;
  if (name == "refuse") return aw::symlink_policy::refuse;
  throw py::value_error("symlinks must be 'follow', 'replace' or 'refuse', not '" + name + "'");
}

// One write in progress: Python's get_fileobject / sync / commit / rollback, step by step.
class staged_write {
 public:
  staged_write(const py::bytes& path, bool overwrite, const std::string& durability,
               std::optional<int> mode_bits, bool preserve, const std::string& symlinks,
               const py::bytes& temp_dir)
      : target_(to_path(path)), overwrite_(overwrite) {
    options_.durability = parse_durability(durability);
    options_.symlinks = parse_symlinks(symlinks);
    options_.preserve = preserve;
    if (mode_bits) {
      if (*mode_bits < 0 || *mode_bits > 07777) throw py::value_error("mode_bits must be 0..0o7777");
      options_.mode = static_cast<fs::perms>(*mode_bits);
    }
    options_.temp_dir = to_path(temp_dir);
    // As in Python atomicwrites, an existing target is reported when publishing, after the
    // caller has written: inspect the target as for an overwrite, publish as asked.
    options_.overwrite = true;
  }

  int open() {
    if (auto ec = aw::detail::open_temp(staged_, target_, options_)) raise_os_error(ec, target_);
    return staged_.file;
  }

  std::optional<py::bytes> temp_path() const {
    if (staged_.temp_path.empty()) return std::nullopt;
    return py::bytes(staged_.temp_path);
  }

  // Metadata, then the data flush the durability level asks for.
  void flush() {
    std::error_code ec = aw::detail::apply_metadata(staged_, options_);
    if (!ec) ec = aw::detail::flush_data(staged_, options_.durability);
    if (ec) raise_os_error(ec, target_, staged_.temp_path);
  }

  void publish() {
    aw::write_options final_options = options_;
    final_options.overwrite = overwrite_;
    if (auto ec = aw::detail::publish(staged_, final_options)) {
      if (!aw::was_published(ec)) (void)aw::detail::discard(staged_);
      raise_os_error(ec, target_);
    }
    published_ = true;
  }

  void discard() {
    if (published_) return;
    if (auto ec = aw::detail::discard(staged_)) raise_os_error(ec, target_, staged_.temp_path);
  }

 private:
  fs::path target_;
  bool overwrite_;
  bool published_ = false;
  aw::write_options options_;
  aw::detail::staged_file staged_;
};

void rename_with(bool overwrite, const py::bytes& source, const py::bytes& target,
                 const std::string& durability) {
  aw::durability level = parse_durability(durability);
  std::error_code ec;
  if (overwrite) {
    aw::replace_atomic(to_path(source), to_path(target), level, ec);
  } else {
    aw::move_atomic(to_path(source), to_path(target), level, ec);
  }
  if (ec) raise_os_error(ec, to_path(source), to_path(target));
}

}  // namespace

PYBIND11_MODULE(_atomicwrites, m) {
  m.doc() = "The C++ core of atomicwrites (atomic, durable file writes).";
  m.attr("core_version") = ATOMICWRITES_VERSION_STRING;
  py::class_<staged_write>(m, "StagedWrite")
      .def(py::init<const py::bytes&, bool, const std::string&, std::optional<int>, bool,
                    const std::string&, const py::bytes&>(),
           py::arg("path"), py::arg("overwrite"), py::arg("durability"), py::arg("mode_bits"),
           py::arg("preserve"), py::arg("symlinks"), py::arg("temp_dir"))
      .def("open", &staged_write::open, "Creates the temporary file; returns its descriptor.")
      .def_property_readonly("temp_path", &staged_write::temp_path)
      .def("flush", &staged_write::flush, "Applies the mode and owner, flushes the data.")
      .def("publish", &staged_write::publish, "Gives the file its name; flushes the directory.")
      .def("discard", &staged_write::discard, "Removes the temporary file.");
  m.def("replace_atomic", [](const py::bytes& s, const py::bytes& t, const std::string& d) {
    rename_with(true, s, t, d);
  });
  m.def("move_atomic", [](const py::bytes& s, const py::bytes& t, const std::string& d) {
    rename_with(false, s, t, d);
  });
  m.def("remove_stale_temp_files", [](const py::bytes& directory, double older_than) {
    std::error_code ec;
    auto removed = aw::remove_stale_temp_files(
        to_path(directory), std::chrono::seconds(static_cast<long long>(older_than)), ec);
    if (ec) raise_os_error(ec, to_path(directory));
    return removed;
  });
}
