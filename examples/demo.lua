-- The demo `make demo` runs: declare a few libc/libm functions, call them,
-- and build a C struct, with no C glue.
package.cpath = "./?.so;" .. package.cpath
local ffi = require "cffi"

ffi.cdef [[
  size_t strlen(const char *s);
  int snprintf(char *buf, size_t n, const char *fmt, ...);
  double sqrt(double x);
  double pow(double x, double y);
  typedef struct { double x, y; } point_t;
]]

local C = ffi.C
local libm = ffi.load("m")

print("strlen('hello, cffi')  = " .. C.strlen("hello, cffi"))
print("sqrt(2)                = " .. libm.sqrt(2))
print("pow(2, 10)             = " .. libm.pow(2, 10))

local buf = ffi.new("char[64]")
C.snprintf(buf, 64, "%s has %d items costing %.2f", "cart", 3, 9.5)
print("snprintf               = " .. ffi.string(buf))

local p = ffi.new("point_t", { x = 3, y = 4 })
print(("point_t               = { x = %g, y = %g }, |p| = %g"):format(
  p.x, p.y, libm.sqrt(p.x * p.x + p.y * p.y)))
print("sizeof(point_t)        = " .. ffi.sizeof("point_t"))
