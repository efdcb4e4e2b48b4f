-- The shortcuts of cdata.c's hot paths give what the general paths give:
-- the type-string front cache, ctype objects recognised by address, the
-- ffi.cast fast cases, inline number reads and writes of fields and
-- elements, ffi.string of arrays and pointers, the metatype __index miss.
-- Names declared here start with fp_: the state is shared by all spec files.
local ffi = require "cffi"
local support = require "support"

local raises = support.raises
local num = ffi.tonumber

ffi.cdef [[
  struct fp_all {
    int8_t a; uint8_t b; int16_t c; uint16_t d; int32_t e; uint32_t f;
    int64_t g; uint64_t h; float fl; double db; bool bo; char ch;
    enum { FP_A, FP_B = 5 } en;
  };
  struct fp_mt { int x; };
  struct fp_plain { int x; };
]]

describe("type strings", function()
  it("keep their types past the front cache's size and a collection", function()
    for round = 1, 2 do
      for i = 1, 300 do
        local t = ffi.typeof("int[" .. i .. "]")
        assert.equal(4 * i, ffi.sizeof(t))
        assert.equal(t, ffi.typeof(("int[%d]"):format(i)))
      end
      collectgarbage()
      collectgarbage()
    end
  end)

  it("with `$` are never cached", function()
    assert.equal(12, ffi.sizeof(ffi.typeof("int[$]", 3)))
    assert.equal(16, ffi.sizeof(ffi.typeof("int[$]", 4)))
    assert.equal(ffi.typeof("int *"), ffi.typeof("$ *", ffi.typeof("int")))
    assert.equal(ffi.typeof("char *"), ffi.typeof("$ *", ffi.typeof("char")))
  end)

  it("defining a record are never cached", function()
    assert.are_not.equal(ffi.typeof("struct { int q; }"), ffi.typeof("struct { int q; }"))
  end)

  it("report their parse errors each time", function()
    for _ = 1, 2 do
      raises(function() ffi.new("fp_nosuch") end, "invalid C type 'fp_nosuch'")
    end
  end)
end)

describe("ctype objects", function()
  it("are recognised after many were made and collections ran", function()
    local ts = {}
    for i = 1, 300 do ts[i] = ffi.typeof("char[" .. (1000 + i) .. "]") end
    collectgarbage()
    for i = 1, 300 do
      assert.equal(1000 + i, ffi.sizeof(ts[i]))
      assert.equal(1000 + i, ffi.sizeof(ffi.new(ts[i])))
    end
  end)

  it("are told from other userdata and cdata", function()
    raises(function() ffi.new(io.stdout) end,
           "bad argument #1 to 'new' (C type expected, got userdata)")
    raises(function() ffi.cast(io.stdout, 1) end,
           "bad argument #1 to 'cast' (C type expected, got userdata)")
    assert.equal(ffi.typeof("int[2]"), ffi.typeof(ffi.new("int[2]")))
  end)
end)

describe("ffi.cast fast cases", function()
  it("truncates integers as the general conversion does", function()
    local cases = {
      { "int8_t", 255, -1 }, { "int8_t", 70000, 112 }, { "uint8_t", -1, 255 },
      { "int16_t", 65535, -1 }, { "uint16_t", 70000, 4464 },
      { "int32_t", 2147483648, -2147483648 }, { "uint32_t", -1, 4294967295 },
      { "int64_t", math.mininteger, math.mininteger },
      { "uint64_t", -1, -1 }, { "char", 255, -1 }, { "long", 7, 7 },
    }
    for _, c in ipairs(cases) do
      assert.equal(c[3], num(ffi.cast(c[1], c[2])), c[1] .. " " .. c[2])
      assert.equal(c[3], num(ffi.cast(ffi.typeof(c[1]), c[2])))
    end
  end)

  it("leaves floats, bools and enums to the general rules", function()
    assert.equal(1, num(ffi.cast("int8_t", 1.9)))
    assert.equal(255, num(ffi.cast("uint8_t", -1.5)))
    assert.equal(1, num(ffi.cast("bool", 2)))
    assert.equal(5, num(ffi.cast("int", ffi.cast("enum { FP_X, FP_Y = 5 }", 5))))
    raises(function() ffi.cast("int", "x") end, "cannot convert 'string' to 'int'")
  end)

  it("makes pointers from integers", function()
    assert.equal(0x1234, num(ffi.cast("intptr_t", ffi.cast("int *", 0x1234))))
    assert.is_true(ffi.isnull(ffi.cast("void *", 0)))
  end)

  it("converts any pointer to any pointer", function()
    local a = ffi.new("int[3]", 1, 2, 3)
    local vp = ffi.cast("const void *", a)
    local ip = ffi.cast("const int *", vp)
    assert.equal(2, ip[1])
    assert.equal("cdata<const int *>", tostring(ip):match("^[^:]+"))
    assert.equal(3, ffi.cast(ffi.typeof("int *"), ip)[2])
    local s = ffi.new("struct { int *p; }")
    s.p = ffi.cast("int *", a)
    assert.equal(3, ffi.cast("int *", s.p)[2])
  end)

  it("gives back the same object for a cast to its own pointer type", function()
    local p = ffi.cast("int *", 16)
    assert.is_true(rawequal(p, ffi.cast("int *", p)))
    assert.is_false(rawequal(p, ffi.cast("const int *", p)))
  end)
end)

describe("number reads and writes", function()
  local s = ffi.new("struct fp_all")

  it("of integer fields truncate integers and convert floats as before", function()
    s.a = 300;   assert.equal(44, s.a)
    s.b = -1;    assert.equal(255, s.b)
    s.c = -2.7;  assert.equal(-2, s.c)
    s.d = 70000; assert.equal(4464, s.d)
    s.e = 2^31;  assert.equal(-2147483648, s.e)
    s.f = -1;    assert.equal(4294967295, s.f)
    s.g = math.mininteger; assert.equal(math.mininteger, s.g)
    s.h = -1;    assert.equal(-1, s.h)
    s.ch = 65;   assert.equal(65, s.ch)
  end)

  it("of float fields", function()
    s.fl = 1.5;  assert.equal(1.5, s.fl)
    s.fl = 3;    assert.equal(3.0, s.fl)
    assert.equal("float", math.type(s.fl))
    s.db = 2;    assert.equal("float", math.type(s.db))
    s.db = 1e300; assert.equal(1e300, s.db)
  end)

  it("leave other values to the general conversion", function()
    s.bo = 1;    assert.equal(true, s.bo)
    s.bo = true; assert.equal(true, s.bo)
    s.en = "FP_B"; assert.equal(5, s.en)
    s.e = true;  assert.equal(1, s.e)
    raises(function() s.e = "7" end, "cannot convert 'string' to 'int'")
    raises(function() s.db = "7" end, "cannot convert 'string' to 'double'")
  end)

  it("of elements", function()
    local a = ffi.new("int16_t[2]")
    a[0] = 40000;  assert.equal(-25536, a[0])
    a[1] = 1.75;   assert.equal(1, a[1])
    local f = ffi.new("float[1]")
    f[0] = 0.1
    assert.is_true(f[0] ~= 0.1 and math.abs(f[0] - 0.1) < 1e-7)
    raises(function() a[2] = 1 end, "index 2 out of range for 'short[2]'")
    local c = ffi.new("const int[1]", 5)
    raises(function() c[0] = 1 end, "attempt to write to constant location")
  end)
end)

describe("ffi.string of arrays and pointers", function()
  it("reads them as before", function()
    local buf = ffi.new("char[8]", "abcdef")
    assert.equal("abcdef", ffi.string(buf))
    assert.equal("abc", ffi.string(buf, 3))
    assert.equal("cd", ffi.string(ffi.cast("const char *", buf) + 2, 2))
    assert.equal("DCBA", ffi.string(ffi.new("int[1]", 0x41424344), 4))
    raises(function() ffi.string(buf, 9) end, "length 9 out of range for a 8-byte object")
  end)

  it("refuses volatile ones, as the conversion to const void * does", function()
    local v = ffi.new("volatile char[4]", "ab")
    raises(function() ffi.string(v) end,
           "cannot convert 'cdata<volatile char[4]>' to 'const void *'")
    raises(function() ffi.string(ffi.cast("volatile char *", v), 2) end,
           "cannot convert 'cdata<volatile char *>' to 'const void *'")
  end)
end)

describe("a metatype's __index after a missed field", function()
  it("is read from the metatable each time", function()
    local mt = { __index = { f = function() return 1 end } }
    local T = ffi.metatype("struct fp_mt", mt)
    local o = T(3)
    assert.equal(1, o:f())
    mt.__index = { f = function() return 2 end }
    assert.equal(2, o:f())
    mt.__index = function(_, k) return k .. "!" end
    assert.equal("zz!", o.zz)
    assert.equal("q!", T.q)
    assert.equal(3, o.x)
    mt.__index = nil
    raises(function() return o.zz end, "'struct fp_mt' has no member named 'zz'")
  end)

  it("misses with the member error without a metatype", function()
    raises(function() return ffi.new("struct fp_plain").y end,
           "'struct fp_plain' has no member named 'y'")
  end)
end)
