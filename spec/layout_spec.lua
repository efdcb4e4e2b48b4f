-- Layout: ffi.sizeof / ffi.alignof / ffi.offsetof against what gcc says.
-- spec/lib/layout.c declares each type in C and hands the spec the very
-- same declaration as a string (stringified from the same tokens), with
-- sizeof, _Alignof and offsetof of every member.  Bitfields are located by
-- C setting each one to all ones in a zeroed object and reporting the bytes.
local ffi = require "cffi"

ffi.cdef [[
  int layout_count(void);
  const char *layout_name(int i);
  const char *layout_decl(int i);
  size_t layout_size(int i);
  size_t layout_align(int i);
  int layout_nfields(int i);
  const char *layout_field(int i, int j);
  size_t layout_offset(int i, int j);
  int layout_nbits(int i);
  const char *layout_bitname(int i, int j);
  int layout_bitpattern(int i, int j, unsigned char *out);
  long long layout_bitvalue(int i, int j);
  long long layout_bitread(int i, int j, const void *p);
]]

local lib = ffi.load("./spec/lib/libcffitest.so")

-- Everything C knows about fact i, read once.
local function fact(i)
  local f = {
    index = i,
    name = ffi.string(lib.layout_name(i)),
    decl = ffi.string(lib.layout_decl(i)),
    size = lib.layout_size(i),
    align = lib.layout_align(i),
    fields = {},
    bits = {},
  }
  for j = 0, lib.layout_nfields(i) - 1 do
    f.fields[#f.fields + 1] = { name = ffi.string(lib.layout_field(i, j)),
                                off = lib.layout_offset(i, j) }
  end
  for j = 0, lib.layout_nbits(i) - 1 do
    local buf = ffi.new("unsigned char[64]")
    local n = lib.layout_bitpattern(i, j, buf)
    local bytes = {}
    for k = 0, n - 1 do bytes[#bytes + 1] = buf[k] end
    f.bits[#f.bits + 1] = { name = ffi.string(lib.layout_bitname(i, j)), index = j,
                            bytes = bytes, value = lib.layout_bitvalue(i, j) }
  end
  return f
end

-- Offset of the lowest set bit, bit position in that byte, and count of set
-- bits, from a byte pattern: what ffi.offsetof answers for a bitfield.
local function bitpos(bytes)
  local low, count
  for k, b in ipairs(bytes) do
    for bit = 0, 7 do
      if b & (1 << bit) ~= 0 then
        low = low or ((k - 1) * 8 + bit)
        count = (count or 0) + 1
      end
    end
  end
  return low // 8, low % 8, count
end

local function hex(bytes)
  local t = {}
  for _, b in ipairs(bytes) do t[#t + 1] = ("%02x"):format(b) end
  return table.concat(t)
end

local function bytesof(cd, n)
  local p = ffi.cast("const unsigned char *", cd)
  local t = {}
  for k = 0, n - 1 do t[#t + 1] = p[k] end
  return t
end

-- Bitfields of type _Bool: they read and write as Lua booleans.
local boolfields = { ["lay_bf7.f"] = true }

local facts = {}
for i = 0, lib.layout_count() - 1 do facts[#facts + 1] = fact(i) end

it("the spec library describes at least 40 types", function()
  assert.is_true(#facts >= 40, "only " .. #facts .. " facts")
end)

for _, f in ipairs(facts) do
  describe(f.name, function()
    local ok, err = pcall(ffi.cdef, f.decl)

    it("is accepted by ffi.cdef", function()
      assert(ok, ("cdef failed: %s\n%s"):format(tostring(err), f.decl))
    end)

    it(("has sizeof %d"):format(f.size), function()
      assert.equal(f.size, ffi.sizeof(f.name))
    end)

    it(("has alignof %d"):format(f.align), function()
      assert.equal(f.align, ffi.alignof(f.name))
    end)

    if #f.fields > 0 then
      it("has gcc's member offsets", function()
        local got, want = {}, {}
        for _, m in ipairs(f.fields) do
          want[m.name] = m.off
          got[m.name] = ffi.offsetof(f.name, m.name)
        end
        assert.same(want, got)
      end)
    end

    for _, b in ipairs(f.bits) do
      local off, pos, size = bitpos(b.bytes)

      it(("places bitfield %s at byte %d bit %d, %d bits"):format(b.name, off, pos, size),
        function()
          assert.same({ off, pos, size }, { ffi.offsetof(f.name, b.name) })
        end)

      local isbool = boolfields[f.name .. "." .. b.name]

      it(("writes all ones into bitfield %s where C does"):format(b.name), function()
        local arr = ffi.new(f.name .. "[1]")
        if isbool then arr[0][b.name] = true else arr[0][b.name] = b.value end
        assert.equal(hex(b.bytes), hex(bytesof(arr, f.size)))
      end)

      it(("reads bitfield %s as C does"):format(b.name), function()
        local arr = ffi.new(f.name .. "[1]")
        local p = ffi.cast("unsigned char *", arr)
        for k, v in ipairs(b.bytes) do p[k - 1] = v end
        if isbool then
          assert.equal(true, arr[0][b.name])
        else
          assert.equal(b.value, arr[0][b.name])
        end
      end)

      it(("clears bitfield %s without touching its neighbours"):format(b.name), function()
        local arr = ffi.new(f.name .. "[1]")
        ffi.fill(arr, f.size, 0xff)
        if isbool then arr[0][b.name] = false else arr[0][b.name] = 0 end
        local want = {}
        for k, v in ipairs(b.bytes) do want[k] = 0xff & ~v end
        assert.equal(hex(want), hex(bytesof(arr, f.size)))
      end)

      if not isbool and size >= 4 then
        it(("stores 5 in bitfield %s so that C reads 5"):format(b.name), function()
          local arr = ffi.new(f.name .. "[1]")
          arr[0][b.name] = 5
          assert.equal(5, lib.layout_bitread(f.index, b.index, arr))
          assert.equal(5, arr[0][b.name])
          local bytes = bytesof(arr, f.size)
          for k, v in ipairs(b.bytes) do
            assert.equal(0, bytes[k] & ~v, "byte " .. (k - 1) .. " outside the field")
          end
        end)
      end
    end
  end)
end

-- Variable-length structs cannot be written in C; compare them with the
-- flexible-array structs of the same shape.  The size of an instance with n
-- elements is sizeof(struct with []) + n * sizeof(element), as in LuaJIT
-- (and as C code allocates a flexible-array struct).
describe("variable-length structs", function()
  local byname = {}
  for _, f in ipairs(facts) do byname[f.name] = f end
  local shapes = {
    { flex = "lay_flex", vls = "struct lay_vls1 { int n; double d[?]; }", elem = 8, last = "d" },
    { flex = "lay_flex2", vls = "struct lay_vls2 { double d; char c; short s[?]; }", elem = 2,
      last = "s" },
    { flex = "lay_flex3", vls = "struct lay_vls3 { char c; int a[?]; }", elem = 4, last = "a" },
  }
  for _, s in ipairs(shapes) do
    local ok, err = pcall(ffi.cdef, s.vls .. ";")
    local tag = s.vls:match("^(struct %S+)")

    it(tag .. " is accepted", function()
      assert(ok, tostring(err))
    end)

    it(tag .. " puts the variable part where C puts the flexible member", function()
      local f = byname[s.flex]
      local want
      for _, m in ipairs(f.fields) do if m.name == s.last then want = m.off end end
      assert.equal(want, ffi.offsetof(tag, s.last))
    end)

    it(tag .. " has the flexible struct's alignment", function()
      assert.equal(byname[s.flex].align, ffi.alignof(tag))
    end)

    for _, n in ipairs({ 0, 1, 5 }) do
      it(("%s with %d elements has size sizeof(flex) + %d * %d"):format(tag, n, n, s.elem),
        function()
          assert.equal(byname[s.flex].size + n * s.elem, ffi.sizeof(tag, n))
          assert.equal(byname[s.flex].size + n * s.elem, ffi.sizeof(ffi.new(tag, n)))
        end)
    end
  end
end)
