-- Run by spec/host/host.c in each of its lua_States.
local ffi = require "cffi"
local n = HOST_STATE
-- Each state declares the same name with its own type: no clash.
if not HOST_SEEN then
  ffi.cdef(("typedef struct { char c[%d]; } host_t;"):format(n * 4))
  HOST_SEEN = true
end
assert(ffi.sizeof("host_t") == n * 4, "state " .. n .. " sees another state's host_t")
ffi.cdef "size_t strlen(const char *);"
assert(ffi.C.strlen("abc") == 3)
local keep = ffi.gc(ffi.new("int[4]"), function() end)
print("state " .. n .. " ok")
