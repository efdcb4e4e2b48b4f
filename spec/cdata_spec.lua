-- cdata: indexing, fields, references into parents, pointer arithmetic and
-- comparison, #, tostring, 64-bit arithmetic, every conversion and its
-- errors, NULL handling, bounds checks and const.
-- Names declared here start with da_: the state is shared by all spec files.
local ffi = require "cffi"
local support = require "support"

local raises, elems = support.raises, support.elems

local num = ffi.tonumber

local function addr(p)
  return num(ffi.cast("uintptr_t", p))
end

-- The pointer value Lua 5.4 shows for a (light or full) userdata.
local function luaptr(u)
  return tonumber(string.format("%p", u):sub(3), 16)
end

ffi.cdef [[
  typedef struct _IO_FILE da_FILE;
  enum da_color { DA_RED, DA_GREEN, DA_BLUE = 10 };
  struct da_pt { int x, y; };
  struct da_other { int x, y; };
  struct da_all {
    int8_t i8; uint8_t u8; int16_t i16; uint16_t u16;
    int32_t i32; uint32_t u32; int64_t i64; uint64_t u64;
    float f; double d; long double ld; bool b; char c;
    long l; unsigned long ul; size_t sz; enum da_color col;
    int *ip; void *vp; const char *cs; char name[8]; da_FILE *fp;
    struct da_pt pt; int arr[4];
  };
  struct da_nested { int a; struct da_pt inner; struct da_pt pts[3]; int m[3][4]; };
  struct da_old { int n; int data[1]; };
  struct da_zero { int n; int data[0]; };
  struct da_flex { int n; int data[]; };
  struct da_mid { int a[1]; int b; };
  struct da_const { const int c; int x; };
  typedef const int da_cint;
  struct da_withc { da_cint y; int z; };
  struct da_holder { int *null; int *some; int value; };
  struct da_list { int v; struct da_list *next; };
  struct da_anon { int tag; union { int i; float f; }; };
  struct da_sc { static const int DA_K = 12; int v; };
  void *layout_stdout(void);
  void *layout_holder_get(void);
]]

local lib = ffi.load("./spec/lib/libcffitest.so")

describe("arrays", function()
  it("read and write elements", function()
    local a = ffi.new("int[4]")
    a[0] = 5
    a[3] = 8
    assert.same({ 5, 0, 0, 8 }, elems(a, 4))
  end)

  it("integer elements are Lua integers, float elements floats", function()
    local a = ffi.new("int[1]", 3)
    local d = ffi.new("double[1]", 3)
    assert.equal("integer", math.type(a[0]))
    assert.equal("float", math.type(d[0]))
  end)

  it("an index past the end is an error", function()
    local a = ffi.new("int[4]")
    raises(function() return a[4] end, "index 4 out of range for 'int[4]'")
  end)

  it("a write past the end is an error", function()
    local a = ffi.new("int[4]")
    raises(function() a[4] = 1 end, "index 4 out of range for 'int[4]'")
  end)

  it("a negative index is an error", function()
    local a = ffi.new("int[4]")
    raises(function() return a[-1] end, "index -1 out of range for 'int[4]'")
  end)

  it("multi-dimensional indexing", function()
    local m = ffi.new("int[3][4]")
    m[1][2] = 7
    m[2][3] = 9
    assert.equal(7, m[1][2])
    assert.equal(9, ffi.cast("int *", m)[11])
  end)

  it("multi-dimensional bounds are checked at each level", function()
    local m = ffi.new("int[3][4]")
    raises(function() return m[3] end, "index 3 out of range for 'int[3][4]'")
    raises(function() return m[0][4] end, "index 4 out of range for 'int[4]'")
  end)

  it("an array member's bounds are checked", function()
    local s = ffi.new("struct da_all")
    raises(function() s.arr[4] = 1 end, "index 4 out of range for 'int[4]'")
  end)

  it("a VLA instance's bounds are checked", function()
    local v = ffi.new("int[?]", 3)
    v[2] = 1
    raises(function() return v[3] end, "index 3 out of range")
  end)

  it("# gives the element count", function()
    assert.equal(7, #ffi.new("int[7]"))
    assert.equal(3, #ffi.new("int[3][4]"))
    assert.equal(4, #ffi.new("int[3][4]")[0])
    assert.equal(4, #ffi.new("struct da_all").arr)
  end)

  it("# of a VLA is its instance length", function()
    assert.equal(5, #ffi.new("int[?]", 5))
    assert.equal(0, #ffi.new("int[?]", 0))
  end)

  it("# of a pointer or a struct is an error", function()
    raises(function() return #ffi.new("int *") end, "attempt to get length of 'cdata<int *>'")
    raises(function() return #ffi.new("struct da_pt") end,
      "attempt to get length of 'cdata<struct da_pt>'")
  end)

  it("a name index on an array is an error", function()
    local a = ffi.new("int[4]")
    raises(function() return a.x end, "'int[4]' has no member named 'x'")
  end)

  it("a float index is truncated", function()
    local a = ffi.new("int[4]", 10, 20, 30, 40)
    assert.equal(20, a[1.5])
  end)

  it("decay to pointers in arithmetic", function()
    local a = ffi.new("int[4]", 1, 2, 3, 4)
    local p = a + 1
    assert.equal(ffi.typeof("int *"), ffi.typeof(p))
    assert.equal(2, p[0])
    assert.equal(addr(a) + 4, addr(p))
  end)

  it("an array member can be assigned from a compatible array", function()
    local s = ffi.new("struct da_all")
    s.arr = ffi.new("int[4]", 1, 2, 3, 4)
    assert.same({ 1, 2, 3, 4 }, elems(s.arr, 4))
  end)

  it("an array member can be assigned from a table", function()
    -- LuaJIT converts a table to an array or struct wherever one is expected
    local s = ffi.new("struct da_all")
    s.arr = { 5, 6, 7, 8 }
    assert.same({ 5, 6, 7, 8 }, elems(s.arr, 4))
  end)

  it("an array of another size cannot be assigned", function()
    local s = ffi.new("struct da_all")
    raises(function() s.arr = ffi.new("int[3]") end, "cannot convert 'cdata<int[3]>' to 'int[4]'")
  end)
end)

describe("pointers", function()
  it("index the memory they point to", function()
    local a = ffi.new("int[4]", 1, 2, 3, 4)
    local p = ffi.cast("int *", a)
    p[2] = 30
    assert.equal(30, a[2])
    assert.equal(4, p[3])
  end)

  it("are not bounds-checked", function()
    local a = ffi.new("int[8]")
    local p = ffi.cast("int *", a) + 2
    p[5] = 1
    assert.equal(1, a[7])
    assert.equal(0, p[-2])
  end)

  it("p + n and p - n move by elements", function()
    local a = ffi.new("double[4]")
    local p = ffi.cast("double *", a)
    assert.equal(addr(p) + 24, addr(p + 3))
    assert.equal(addr(p) + 8, addr((p + 3) - 2))
  end)

  it("n + p", function()
    local a = ffi.new("short[4]")
    local p = ffi.cast("short *", a)
    assert.equal(addr(p) + 4, addr(2 + p))
  end)

  it("struct pointers move by the struct size", function()
    local a = ffi.new("struct da_pt[3]")
    local p = ffi.cast("struct da_pt *", a)
    assert.equal(addr(p) + 16, addr(p + 2))
  end)

  it("p - q is the element distance, a Lua integer", function()
    local a = ffi.new("int[10]")
    local p = ffi.cast("int *", a)
    local d = (p + 7) - (p + 2)
    assert.equal(5, d)
    assert.equal("integer", math.type(d))
    assert.equal(-5, (p + 2) - (p + 7))
  end)

  it("the result of arithmetic keeps the pointer type", function()
    local p = ffi.cast("const char *", "abc")
    assert.equal(ffi.typeof("const char *"), ffi.typeof(p + 1))
  end)

  it("compare by address", function()
    local a = ffi.new("int[4]")
    local p = ffi.cast("int *", a)
    assert.is_true(p < p + 1)
    assert.is_true(p + 1 > p)
    assert.is_true(p <= p + 0)
    assert.is_false(p + 2 <= p + 1)
  end)

  it("distinct cdata with one address are equal", function()
    local a = ffi.new("int[4]")
    local p = ffi.cast("int *", a)
    local q = ffi.cast("int *", a)
    assert.is_false(rawequal(p, q))
    assert.is_true(p == q)
    assert.is_true(p + 1 == q + 1)
    assert.is_false(p == q + 1)
  end)

  it("arithmetic on void * is an error", function()
    local p = ffi.cast("void *", 16)
    raises(function() return p + 1 end,
      "attempt to perform arithmetic on 'cdata<void *>' and 'number'")
  end)

  it("the difference of unrelated pointer types is an error", function()
    raises(function() return ffi.new("int *") - ffi.new("char *") end,
      "attempt to perform arithmetic on 'cdata<int *>' and 'cdata<char *>'")
  end)

  it("arithmetic on a struct is an error", function()
    raises(function() return ffi.new("struct da_pt") + 1 end,
      "attempt to perform arithmetic on 'cdata<struct da_pt>' and 'number'")
  end)

  it("== never raises", function()
    local p = ffi.new("int *")
    assert.is_false(p == io.stdout)
    assert.is_false(ffi.new("struct da_pt") == ffi.new("struct da_pt"))
    assert.is_false(p == ffi.new("struct da_pt"))
  end)

  it("reach struct fields through p.x", function()
    local a = ffi.new("struct da_pt[2]")
    local p = ffi.cast("struct da_pt *", a)
    p.x = 3
    p[1].y = 4
    assert.equal(3, a[0].x)
    assert.equal(4, a[1].y)
    assert.equal(4, (p + 1).y)
  end)

  it("a pointer field can be set from an array", function()
    local a = ffi.new("int[3]", 7, 8, 9)
    local s = ffi.new("struct da_all")
    s.ip = a
    assert.equal(9, s.ip[2])
    assert.equal(addr(a), addr(s.ip))
  end)
end)

describe("NULL", function()
  it("ffi.new and ffi.cast give NULL cdata when asked", function()
    local p = ffi.new("int *")
    assert.is_not_nil(p)
    assert.is_true(ffi.isnull(p))
    assert.is_true(ffi.isnull(ffi.cast("void *", nil)))
  end)

  it("a NULL pointer field reads as nil", function()
    local s = ffi.new("struct da_all")
    assert.is_nil(s.ip)
    assert.is_nil(s.vp)
  end)

  it("a NULL array element reads as nil", function()
    local a = ffi.new("int *[2]")
    assert.is_nil(a[0])
    assert.is_true(a[1] == nil)
  end)

  it("a NULL pointer in C memory arrives as nil", function()
    local h = ffi.cast("struct da_holder *", lib.layout_holder_get())
    assert.is_nil(h.null)
    assert.is_not_nil(h.some)
    assert.equal(42, h.some[0])
    assert.equal(7, h.value)
  end)

  it("nil converts to NULL", function()
    local a = ffi.new("int[1]")
    local s = ffi.new("struct da_all")
    s.ip = a
    assert.is_not_nil(s.ip)
    s.ip = nil
    assert.is_nil(s.ip)
    assert.is_true(ffi.isnull(ffi.new("int *", nil)))
  end)

  it("makes `while node ~= nil` walk a list", function()
    local nodes = ffi.new("struct da_list[3]")
    for i = 0, 2 do nodes[i].v = i + 1 end
    nodes[0].next = nodes + 1
    nodes[1].next = nodes + 2
    local n, sum, count = ffi.cast("struct da_list *", nodes), 0, 0
    while n ~= nil and count < 10 do
      sum, count = sum + n.v, count + 1
      n = n.next
    end
    assert.equal(3, count)
    assert.equal(6, sum)
  end)

  it("reading through NULL is an error", function()
    raises(function() return ffi.new("int *")[0] end, "NULL pointer dereference")
  end)

  it("writing through NULL is an error", function()
    raises(function() ffi.new("int *")[0] = 1 end, "NULL pointer dereference")
  end)

  it("a field through a NULL struct pointer is an error", function()
    local p = ffi.cast("struct da_pt *", nil)
    raises(function() return p.x end, "NULL pointer dereference")
    raises(function() p.y = 1 end, "NULL pointer dereference")
  end)
end)

describe("struct fields", function()
  it("read and write", function()
    local p = ffi.new("struct da_pt")
    p.x, p.y = 1, -2
    assert.same({ 1, -2 }, { p.x, p.y })
  end)

  it("an unknown field is an error naming the struct", function()
    local p = ffi.new("struct da_pt")
    raises(function() return p.z end, "'struct da_pt' has no member named 'z'")
    raises(function() p.z = 1 end, "'struct da_pt' has no member named 'z'")
  end)

  it("an unknown field through a pointer is the same error", function()
    local a = ffi.new("struct da_pt[1]")
    local p = ffi.cast("struct da_pt *", a)
    raises(function() return p.z end, "'struct da_pt' has no member named 'z'")
  end)

  it("members of an anonymous union are reached directly", function()
    local s = ffi.new("struct da_anon")
    s.f = 1.0
    assert.equal(0x3f800000, s.i)
  end)

  it("scoped static const members read through an instance", function()
    local s = ffi.new("struct da_sc")
    assert.equal(12, s.DA_K)
  end)
end)

describe("references into parents", function()
  it("a nested struct is a reference", function()
    local n = ffi.new("struct da_nested")
    local r = n.inner
    r.x = 5
    assert.equal(5, n.inner.x)
  end)

  it("an array element of struct type is a reference", function()
    local n = ffi.new("struct da_nested")
    n.pts[1].y = 4
    assert.equal(4, n.pts[1].y)
    local r = n.pts[2]
    r.x = 9
    assert.equal(9, n.pts[2].x)
  end)

  it("a reference points into the parent's memory", function()
    local n = ffi.new("struct da_nested")
    assert.equal(addr(n) + ffi.offsetof("struct da_nested", "pts") + 8, addr(n.pts[1]))
  end)

  it("a nested array is a reference", function()
    local n = ffi.new("struct da_nested")
    local row = n.m[2]
    row[3] = 11
    assert.equal(11, n.m[2][3])
  end)

  it("a reference keeps its parent alive", function()
    local r = ffi.new("struct da_nested", { inner = { 1, 2 } }).inner
    for _ = 1, 3 do
      collectgarbage()
      local junk = {}
      for i = 1, 1000 do junk[i] = ffi.new("struct da_nested") end
    end
    assert.equal(1, r.x)
    r.y = 3
    assert.equal(3, r.y)
  end)

  it("assigning a struct copies it", function()
    local n = ffi.new("struct da_nested")
    local src = ffi.new("struct da_pt", 1, 2)
    n.inner = src
    src.x = 100
    assert.same({ 1, 2 }, { n.inner.x, n.inner.y })
  end)

  it("assigning from a reference of the same type copies", function()
    local n = ffi.new("struct da_nested")
    n.inner.x, n.inner.y = 6, 7
    n.pts[0] = n.inner
    n.inner.x = 0
    assert.same({ 6, 7 }, { n.pts[0].x, n.pts[0].y })
  end)

  it("assigning a table to a struct member initializes it", function()
    local n = ffi.new("struct da_nested")
    n.inner = { 3, 4 }
    assert.same({ 3, 4 }, { n.inner.x, n.inner.y })
    n.pts[2] = { x = 5, y = 6 }
    assert.same({ 5, 6 }, { n.pts[2].x, n.pts[2].y })
  end)

  it("assigning a struct of another type is an error", function()
    local n = ffi.new("struct da_nested")
    raises(function() n.inner = ffi.new("struct da_other") end,
      "cannot convert 'cdata<struct da_other>' to 'struct da_pt'")
  end)
end)

describe("integer conversions", function()
  local cases = {
    { "i8", 127, 127 }, { "i8", 128, -128 }, { "i8", 255, -1 }, { "i8", -129, 127 },
    { "u8", 255, 255 }, { "u8", 256, 0 }, { "u8", -1, 255 },
    { "i16", 32768, -32768 }, { "i16", 65535, -1 },
    { "u16", 65541, 5 }, { "u16", -1, 65535 },
    { "i32", 2147483648, -2147483648 }, { "i32", 4294967303, 7 }, { "i32", -1, -1 },
    { "u32", -1, 4294967295 }, { "u32", 4294967296, 0 },
    { "i64", math.maxinteger, math.maxinteger }, { "i64", math.mininteger, math.mininteger },
    { "u64", -1, -1 }, { "u64", math.mininteger, math.mininteger },
    { "l", -5, -5 }, { "ul", -1, -1 }, { "sz", 1 << 40, 1 << 40 },
    { "i32", 3.99, 3 }, { "i32", -3.99, -3 }, { "u8", 300.5, 44 },
    { "i64", 2.0 ^ 53, 1 << 53 }, { "u64", 2.0 ^ 63, math.mininteger },
    { "col", 10, 10 }, { "c", 65, 65 },
  }
  for _, c in ipairs(cases) do
    it(("%s = %s reads %d"):format(c[1], tostring(c[2]), c[3]), function()
      local s = ffi.new("struct da_all")
      s[c[1]] = c[2]
      assert.equal(c[3], s[c[1]])
      assert.equal("integer", math.type(s[c[1]]))
    end)
  end

  it("plain char has the platform's signedness", function()
    local s = ffi.new("struct da_all")
    s.c = 200
    local want = (ffi.arch == "x64" or ffi.arch == "x86") and -56 or 200
    assert.equal(want, s.c)
  end)

  it("from integer cdata", function()
    local s = ffi.new("struct da_all")
    s.i32 = ffi.new("int64_t", 0x100000005)
    assert.equal(5, s.i32)
    s.u8 = ffi.new("int", -2)
    assert.equal(254, s.u8)
  end)

  it("from a boolean", function()
    local s = ffi.new("struct da_all")
    s.i32 = true
    assert.equal(1, s.i32)
  end)

  it("enum fields read as integers", function()
    local s = ffi.new("struct da_all")
    s.col = "DA_BLUE"
    assert.equal(10, s.col)
    assert.equal("integer", math.type(s.col))
  end)
end)

describe("floating-point conversions", function()
  it("float rounds to single precision", function()
    local s = ffi.new("struct da_all")
    s.f = 16777217
    assert.equal(16777216.0, s.f)
    s.f = 0.1
    assert.equal(string.unpack("f", string.pack("f", 0.1)), s.f)
  end)

  it("float overflows to infinity", function()
    local s = ffi.new("struct da_all")
    s.f = 1e40
    assert.equal(math.huge, s.f)
  end)

  it("double keeps a double", function()
    local s = ffi.new("struct da_all")
    s.d = 1 / 3
    assert.equal(1 / 3, s.d)
    s.d = (1 << 53) + 1
    assert.equal(2.0 ^ 53, s.d)
  end)

  it("reads floats as Lua floats", function()
    local s = ffi.new("struct da_all")
    s.d = 2
    s.f = 3
    assert.equal("float", math.type(s.d))
    assert.equal("float", math.type(s.f))
  end)

  it("long double goes through double", function()
    local s = ffi.new("struct da_all")
    s.ld = 1.5
    assert.equal(1.5, s.ld)
    assert.equal("float", math.type(s.ld))
  end)

  it("from number cdata", function()
    local s = ffi.new("struct da_all")
    s.d = ffi.new("int", 7)
    assert.equal(7.0, s.d)
    s.f = ffi.new("double", 0.5)
    assert.equal(0.5, s.f)
  end)
end)

describe("bool conversions", function()
  local cases = { { true, true }, { false, false }, { 0, false }, { 1, true }, { 2, true } }
  for _, c in ipairs(cases) do
    it(("b = %s reads %s"):format(tostring(c[1]), tostring(c[2])), function()
      local s = ffi.new("struct da_all")
      s.b = c[1]
      assert.equal(c[2], s.b)
    end)
  end
end)

describe("strings", function()
  it("convert to const char * pointing into the Lua string", function()
    local str = "hello, world"
    local s = ffi.new("struct da_all")
    s.cs = str
    assert.equal(str, ffi.string(s.cs))
    assert.equal(addr(ffi.cast("const char *", str)), addr(s.cs))
  end)

  it("copy into char arrays with the NUL", function()
    local s = ffi.new("struct da_all")
    ffi.fill(s.name, 8, 120)
    s.name = "abc"
    assert.equal("abc", ffi.string(s.name))
    assert.equal(0, s.name[3])
  end)

  it("are cut at the size of a char array", function()
    local s = ffi.new("struct da_all")
    s.name = "0123456789"
    assert.equal("01234567", ffi.string(s.name, 8))
  end)

  it("convert to an enum by constant name", function()
    local s = ffi.new("struct da_all")
    s.col = "DA_GREEN"
    assert.equal(1, s.col)
  end)

  it("an unknown enum name is an error", function()
    local s = ffi.new("struct da_all")
    raises(function() s.col = "DA_PINK" end, "cannot convert 'string' to 'enum da_color'")
  end)

  it("do not convert to int pointers", function()
    local s = ffi.new("struct da_all")
    raises(function() s.ip = "abc" end, "cannot convert 'string' to 'int *'")
  end)

  it("do not convert to char", function()
    local s = ffi.new("struct da_all")
    raises(function() s.c = "A" end, "cannot convert 'string' to 'char'")
  end)
end)

describe("userdata", function()
  it("light userdata converts to void *", function()
    local lud = debug.upvalueid(function() return ffi end, 1)
    assert.equal("userdata", type(lud))
    local s = ffi.new("struct da_all")
    s.vp = lud
    assert.equal(luaptr(lud), addr(s.vp))
  end)

  it("full userdata converts to void * (its memory block)", function()
    local lfs = require "lfs"
    local _, dir = lfs.dir(".")
    local s = ffi.new("struct da_all")
    s.vp = dir
    assert.equal(luaptr(dir), addr(s.vp))
    dir:close()
  end)

  it("io files convert to FILE *", function()
    local s = ffi.new("struct da_all")
    s.fp = io.stdout
    assert.equal(addr(lib.layout_stdout()), addr(s.fp))
  end)

  it("io files cast to FILE *", function()
    assert.equal(addr(lib.layout_stdout()), addr(ffi.cast("da_FILE *", io.stdout)))
    assert.are_not.equal(addr(ffi.cast("da_FILE *", io.stdout)),
      addr(ffi.cast("da_FILE *", io.stderr)))
  end)
end)

describe("cannot convert", function()
  local function assign(field, v)
    return function()
      local s = ffi.new("struct da_all")
      s[field] = v
    end
  end
  local cases = {
    { "i32", "12", "cannot convert 'string' to 'int'" },
    { "d", {}, "cannot convert 'table' to 'double'" },
    { "ip", true, "cannot convert 'boolean' to 'int *'" },
    { "i32", print, "cannot convert 'function' to 'int'" },
    { "ip", 1234, "cannot convert 'number' to 'int *'" },
    { "d", ffi.new("int *"), "cannot convert 'cdata<int *>' to 'double'" },
    { "i32", ffi.new("struct da_pt"), "cannot convert 'cdata<struct da_pt>' to 'int'" },
    { "ip", ffi.new("double *"), "cannot convert 'cdata<double *>' to 'int *'" },
    { "ip", ffi.new("const int *"), "cannot convert 'cdata<const int *>' to 'int *'" },
    { "pt", ffi.new("struct da_other"), "cannot convert 'cdata<struct da_other>' to 'struct da_pt'" },
    { "i32", nil, "cannot convert 'nil' to 'int'" },
    { "pt", nil, "cannot convert 'nil' to 'struct da_pt'" },
    { "i32", io.stdout, "cannot convert 'userdata' to 'int'" },
    { "i32", coroutine.create(print), "cannot convert 'thread' to 'int'" },
    { "ip", {}, "cannot convert 'table' to 'int *'" },
    { "i64", ffi.new("int *"), "cannot convert 'cdata<int *>' to 'int64_t'" },
    { "u64", "1", "cannot convert 'string' to 'uint64_t'" },
    { "f", "1.5", "cannot convert 'string' to 'float'" },
    { "b", "yes", "cannot convert 'string' to 'bool'" },
    { "sz", {}, "cannot convert 'table' to 'unsigned long'" },
  }
  for _, c in ipairs(cases) do
    it(c[3], function()
      raises(assign(c[1], c[2]), c[3])
    end)
  end
end)

describe("const", function()
  it("a const member cannot be written", function()
    local s = ffi.new("struct da_const", 1, 2)
    raises(function() s.c = 5 end, "attempt to write to constant location")
    assert.equal(1, s.c)
  end)

  it("a member of a const typedef cannot be written", function()
    local s = ffi.new("struct da_withc")
    raises(function() s.y = 5 end, "attempt to write to constant location")
  end)

  it("other members of the struct stay writable", function()
    local s = ffi.new("struct da_const", 1, 2)
    s.x = 3
    assert.equal(3, s.x)
  end)

  it("elements of a const array cannot be written", function()
    local a = ffi.new("const int[3]", { 1, 2, 3 })
    assert.equal(2, a[1])
    raises(function() a[0] = 5 end, "attempt to write to constant location")
  end)

  it("through a pointer to const", function()
    local a = ffi.new("int[2]")
    local p = ffi.cast("const int *", a)
    raises(function() p[0] = 1 end, "attempt to write to constant location")
  end)

  it("through a pointer to a const struct", function()
    local a = ffi.new("struct da_pt[1]")
    local p = ffi.cast("const struct da_pt *", a)
    raises(function() p.x = 1 end, "attempt to write to constant location")
  end)

  it("into a nested member reached through a const pointer", function()
    local a = ffi.new("struct da_nested[1]")
    local p = ffi.cast("const struct da_nested *", a)
    raises(function() p.inner.x = 1 end, "attempt to write to constant location")
  end)
end)

describe("trailing [0], [1] and [] members", function()
  it("[1] as the last member is not bounds-checked", function()
    local buf = ffi.new("int[16]")
    local p = ffi.cast("struct da_old *", buf)
    p.data[5] = 7
    assert.equal(7, p.data[5])
    assert.equal(7, buf[6])
  end)

  it("[0] as the last member is not bounds-checked", function()
    local buf = ffi.new("int[16]")
    local p = ffi.cast("struct da_zero *", buf)
    p.data[3] = 8
    assert.equal(8, buf[4])
  end)

  it("[] as the last member is not bounds-checked", function()
    local buf = ffi.new("int[16]")
    local p = ffi.cast("struct da_flex *", buf)
    p.data[9] = 9
    assert.equal(9, buf[10])
  end)

  it("[1] elsewhere is bounds-checked", function()
    local s = ffi.new("struct da_mid")
    s.a[0] = 1
    raises(function() s.a[1] = 2 end, "index 1 out of range for 'int[1]'")
  end)
end)

describe("tostring", function()
  it("of a pointer shows its type and address", function()
    local a = ffi.new("int[2]")
    local p = ffi.cast("int *", a)
    assert.equal(("cdata<int *>: 0x%x"):format(addr(p)), tostring(p))
  end)

  it("of a NULL pointer", function()
    assert.equal("cdata<int *>: NULL", tostring(ffi.new("int *")))
  end)

  it("of a NULL function pointer", function()
    assert.equal("cdata<int (*)(int)>: NULL", tostring(ffi.new("int (*)(int)")))
  end)

  it("of 64-bit integers shows the value with LL / ULL", function()
    assert.equal("5LL", tostring(ffi.new("int64_t", 5)))
    assert.equal("-7LL", tostring(ffi.new("int64_t", -7)))
    assert.equal("18446744073709551615ULL", tostring(ffi.cast("uint64_t", -1)))
  end)

  it("of complex numbers shows the value", function()
    assert.equal("1+2i", tostring(ffi.new("complex", 1, 2)))
    assert.equal("1.5-0.5i", tostring(ffi.new("complex", 1.5, -0.5)))
  end)

  it("of a 32-bit integer shows type and address", function()
    assert.matches("^cdata<int>: 0x%x+$", tostring(ffi.new("int", 5)))
  end)

  it("of a struct", function()
    assert.matches("^cdata<struct da_pt>: 0x%x+$", tostring(ffi.new("struct da_pt")))
  end)

  it("of an array", function()
    assert.matches("^cdata<int%[4%]>: 0x%x+$", tostring(ffi.new("int[4]")))
  end)

  it("of a reference shows 'T &' and the address inside the parent", function()
    -- as LuaJIT: its __tostring prints the reference type, "struct foo &"
    local n = ffi.new("struct da_nested")
    local want = addr(n) + ffi.offsetof("struct da_nested", "inner")
    assert.equal(("cdata<struct da_pt &>: 0x%x"):format(want), tostring(n.inner))
  end)
end)

describe("64-bit integer arithmetic", function()
  local i64 = function(v) return ffi.new("int64_t", v) end
  local u64 = function(v) return ffi.cast("uint64_t", v) end

  it("adds", function()
    assert.equal(6, num(i64(5) + 1))
    assert.equal(6, num(1 + i64(5)))
    assert.equal(12, num(i64(5) + i64(7)))
  end)

  it("wraps around", function()
    assert.equal(math.mininteger, num(i64(math.maxinteger) + 1))
  end)

  it("uint64_t keeps its bits below zero", function()
    assert.equal(-1, num(u64(0) - 1))
  end)

  it("unsigned wins", function()
    assert.equal(math.maxinteger, num(u64(-1) / 2))
    assert.equal(math.maxinteger, num(i64(-1) / u64(2)))
  end)

  it("signed division truncates toward zero", function()
    assert.equal(-3, num(i64(-7) / 2))
    assert.equal(-1, num(i64(-7) % 2))
  end)

  it("unsigned modulo", function()
    assert.equal(5, num(u64(-1) % 10))
  end)

  it("multiplies and negates", function()
    assert.equal(42, num(i64(6) * 7))
    assert.equal(-5, num(-i64(5)))
  end)

  it("converts a float operand to the integer type", function()
    assert.equal(6, num(i64(5) + 1.5))
  end)

  it("compares signed", function()
    assert.is_true(i64(5) < 6)
    assert.is_true(i64(-1) < i64(0))
    assert.is_true(i64(5) <= i64(5))
  end)

  it("compares unsigned", function()
    assert.is_true(u64(-1) > u64(1))
    assert.is_true(u64(-1) > 1)
  end)

  it("equal values are equal", function()
    assert.is_true(i64(5) == i64(5))
    assert.is_false(i64(5) == i64(6))
  end)

  it("32-bit cdata take part in arithmetic", function()
    assert.equal(6, num(ffi.new("int", 5) + 1))
    assert.equal(4294967296, num(ffi.new("uint32_t", 4294967295) + 1))
  end)
end)

describe("cdata identity", function()
  it("hash by object as table keys", function()
    local a, b = ffi.new("int", 1), ffi.new("int", 1)
    local t = {}
    t[a] = "a"
    t[b] = "b"
    assert.equal("a", t[a])
    assert.equal("b", t[b])
  end)
end)

describe("complex", function()
  it("fields re and im read and write", function()
    local c = ffi.new("complex")
    c.re, c.im = 1.25, -2.5
    assert.same({ 1.25, -2.5 }, { c.re, c.im })
  end)

  it("complex float members round to single precision", function()
    local c = ffi.new("complex float", 0.1, 0)
    assert.equal(string.unpack("f", string.pack("f", 0.1)), c.re)
  end)
end)
