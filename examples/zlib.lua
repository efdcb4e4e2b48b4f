-- Compress and uncompress a string with the system's zlib, no C glue.
--
--   make && lua5.4 examples/zlib.lua ["text to compress"]
--
-- Prints the zlib version, the sizes before and after, and "round trip ok".
package.cpath = package.cpath .. ";./?.so"
local ffi = require "cffi"

ffi.cdef [[
unsigned long compressBound(unsigned long sourceLen);
int compress2(uint8_t *dest, unsigned long *destLen,
              const uint8_t *source, unsigned long sourceLen, int level);
int uncompress(uint8_t *dest, unsigned long *destLen,
               const uint8_t *source, unsigned long sourceLen);
const char *zlibVersion(void);
]]

local z = ffi.load("z")   -- finds libz.so / libz.so.1

local Z_OK = 0

-- A Lua string goes straight to `const uint8_t *`; the output goes into a
-- buffer owned by Lua (freed by the GC), its length through a 1-element array.
local function compress(s, level)
  local cap = z.compressBound(#s)
  local buf = ffi.new("uint8_t[?]", cap)
  local len = ffi.new("unsigned long[1]", cap)
  local rc = z.compress2(buf, len, s, #s, level or 9)
  if rc ~= Z_OK then error("compress2 failed: " .. rc) end
  return ffi.string(buf, len[0])
end

local function uncompress(c, size)
  local buf = ffi.new("uint8_t[?]", size)
  local len = ffi.new("unsigned long[1]", size)
  local rc = z.uncompress(buf, len, c, #c)
  if rc ~= Z_OK then error("uncompress failed: " .. rc) end
  return ffi.string(buf, len[0])
end

local text = arg[1] or ("The quick brown fox jumps over the lazy dog. "):rep(50)

print("zlib " .. ffi.string(z.zlibVersion()))
local packed = compress(text)
print(("original %d bytes, compressed %d bytes"):format(#text, #packed))
local back = uncompress(packed, #text)
if back == text then
  print("round trip ok")
else
  print("round trip FAILED")
  os.exit(1)
end
