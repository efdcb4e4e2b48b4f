rockspec_format = "3.0"
package = "cffi"
version = "scm-1"
source = {
  url = "git+https://example.invalid/cffi.git",
}
description = {
  summary = "LuaJIT's FFI API for PUC Lua 5.4, on libffi",
  detailed = [[
    local ffi = require "cffi": declare C types and functions with ffi.cdef,
    open shared libraries with ffi.load (dlopen flags, dlclose), call C
    functions, make callbacks from Lua functions, and build C data with
    ffi.new / ffi.cast / ffi.typeof / ffi.metatype.
  ]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
-- Checked by its library: Debian keeps ffi.h in a multiarch include
-- directory, where a header check fails but the compiler finds it.
external_dependencies = {
  LIBFFI = { library = "ffi" },
}
build = {
  type = "builtin",
  modules = {
    cffi = {
      sources = {
        "src/ctype.c", "src/clex.c", "src/cparse.c", "src/cconv.c",
        "src/cdata.c", "src/ctypeobj.c", "src/carith.c", "src/ccall.c",
        "src/cabi.c",
        "src/ccallback.c", "src/clib.c", "src/lcffi.c",
      },
      defines = { "_GNU_SOURCE" },
      libraries = { "ffi", "dl", "m" },
      libdirs = { "$(LIBFFI_LIBDIR)" },
    },
    ffi = "lua/ffi.lua",
  },
}
test = {
  type = "command",
  command = "make test",
}
