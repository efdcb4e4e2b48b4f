-- An object-oriented wrapper around a small C API (tl_counter in the test
-- library), with ffi.metatype for methods and ffi.gc for the lifetime.
--
--   make && make spec/lib/libcffitest.so && lua5.4 examples/counter.lua
package.cpath = package.cpath .. ";./?.so"
local ffi = require "cffi"

ffi.cdef [[
typedef struct tl_counter tl_counter;     /* opaque: C owns the layout */
tl_counter *tl_counter_new(int start);
void tl_counter_incr(tl_counter *c, int by);
int tl_counter_get(const tl_counter *c);
void tl_counter_set(tl_counter *c, int v);
void tl_counter_free(tl_counter *c);
extern int tl_counters_live;              /* how many are allocated */
]]

-- The test library sits next to this script's directory.
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local lib = ffi.load(here .. "/../spec/lib/libcffitest.so")

local methods = {}

-- Methods are plain Lua functions; `self` is a `tl_counter *`.
function methods:incr(by)
  lib.tl_counter_incr(self, by or 1)
  return self                               -- allows chaining
end

function methods:get()
  return lib.tl_counter_get(self)
end

function methods:set(v)
  lib.tl_counter_set(self, v)
  return self
end

-- Free now rather than at the next collection: drop the finalizer first so
-- the object is freed exactly once.
function methods:free()
  ffi.gc(self, nil)
  lib.tl_counter_free(self)
end

-- The metatable of the struct type applies to pointers to it, which is what
-- the C API hands out.
ffi.metatype("tl_counter", {
  __index = methods,
  __tostring = function(self) return ("Counter(%d)"):format(self:get()) end,
  __close = function(self) self:free() end,  -- for `local c <close> = ...`
})

-- The constructor: the GC frees what the script forgets.
local function Counter(start)
  local c = lib.tl_counter_new(start or 0)
  if c == nil then error("out of memory") end
  return ffi.gc(c, lib.tl_counter_free)
end

local c = Counter(10)
c:incr():incr(5)
print(c)                                    --> Counter(16)
print("value " .. c:get())                  --> value 16
print("live counters: " .. lib.tl_counters_live)

for i = 1, 100 do
  Counter(i):incr(i)                        -- garbage right away
end
print("live counters before collect: " .. lib.tl_counters_live)
collectgarbage()
collectgarbage()
print("live counters after collect: " .. lib.tl_counters_live)

do
  local scoped <close> = Counter(1)
  scoped:set(41):incr()
  print("scoped " .. tostring(scoped))       --> scoped Counter(42)
end
print("live counters after scope: " .. lib.tl_counters_live)

c:free()
print("live counters at the end: " .. lib.tl_counters_live)
