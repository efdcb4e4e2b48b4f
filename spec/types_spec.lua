-- ffi.typeof, ffi.new initializers, ffi.cast, sizeof/alignof/offsetof/istype,
-- ffi.string/copy/fill, ffi.abi/os/arch/nullptr/tonumber.
-- Names declared here start with ty_: the state is shared by all spec files.
local ffi = require "cffi"
local support = require "support"

local raises, elems = support.raises, support.elems

local T = ffi.typeof
local num = ffi.tonumber

ffi.cdef [[
  struct ty_pt { int x, y; };
  struct ty_rect { struct ty_pt tl, br; };
  struct ty_mix { char c; double d; int arr[3]; const char *s; };
  union ty_u { int i; float f; unsigned char b[4]; };
  struct ty_vls { int n; int d[?]; };
  struct ty_opaque;
  enum ty_color { TY_RED, TY_GREEN, TY_BLUE = 7 };
  typedef struct { double re, im; } ty_cplx_t;
]]

describe("ffi.typeof", function()
  it("returns the same object for the same type", function()
    assert.equal(T("int"), T("int"))
    assert.equal(T("struct ty_pt *"), T("struct ty_pt*"))
    assert.is_true(rawequal(T("double[4]"), T("double [4]")))
  end)

  it("prints as ctype<...>", function()
    assert.equal("ctype<int>", tostring(T("int")))
    assert.equal("ctype<struct ty_pt>", tostring(T("struct ty_pt")))
    assert.equal("ctype<struct ty_pt *>", tostring(T("struct ty_pt *")))
    assert.equal("ctype<int[3]>", tostring(T("int[3]")))
    assert.equal("ctype<enum ty_color>", tostring(T("enum ty_color")))
    assert.equal("ctype<double (*)(double)>", tostring(T("double (*)(double)")))
  end)

  it("of a ctype is the ctype", function()
    local t = T("short")
    assert.equal(t, T(t))
  end)

  it("of a cdata is its type", function()
    assert.equal(T("int[3]"), T(ffi.new("int[3]")))
    assert.equal(T("struct ty_pt"), T(ffi.new("struct ty_pt")))
    assert.equal(T("void *"), T(ffi.nullptr))
  end)

  it("of a VLA instance is the VLA type", function()
    assert.equal(T("int[?]"), T(ffi.new("int[?]", 3)))
  end)

  it("anonymous struct types are new types each time", function()
    assert.are_not.equal(T("struct { int x; }"), T("struct { int x; }"))
  end)

  it("ctypes work as table keys", function()
    local t = {}
    t[T("int")] = "int"
    t[T("double")] = "double"
    assert.equal("int", t[T("int")])
    assert.equal("double", t[T("double")])
  end)

  it("ctypes are callable: T(...) is ffi.new(T, ...)", function()
    local P = T("struct ty_pt")
    local p = P(3, 4)
    assert.equal(3, p.x)
    assert.equal(4, p.y)
    assert.is_true(ffi.istype(P, p))
  end)

  it("a VLA ctype takes the element count first", function()
    local V = T("int[?]")
    local v = V(5, 9)
    assert.equal(5, #v)
    assert.same({ 9, 9, 9, 9, 9 }, elems(v, 5))
  end)

  it("rejects non-types", function()
    raises(function() ffi.typeof(42) end, "bad argument #1 to 'typeof'")
    raises(function() ffi.typeof({}) end, "bad argument #1 to 'typeof'")
    raises(function() ffi.typeof() end, "bad argument #1 to 'typeof'")
  end)
end)

describe("ffi.new", function()
  describe("scalars", function()
    it("are zero without an initializer", function()
      assert.equal(0, num(ffi.new("int")))
      assert.equal(0, num(ffi.new("double")))
      assert.is_true(ffi.isnull(ffi.new("int *")))
    end)

    it("convert their initializer", function()
      assert.equal(42, num(ffi.new("int", 42)))
      assert.equal(1.5, num(ffi.new("double", 1.5)))
      assert.equal(3, num(ffi.new("int", 3.7)))
      assert.equal(255, num(ffi.new("uint8_t", -1)))
    end)

    it("bool from booleans and numbers", function()
      local b = ffi.new("bool[3]", { true, 0, 7 })
      assert.same({ true, false, true }, elems(b, 3))
    end)

    it("enum from a constant name", function()
      assert.equal(7, num(ffi.new("enum ty_color", "TY_BLUE")))
      assert.equal(1, num(ffi.new("enum ty_color", 1)))
    end)

    it("an unknown enum constant is an error", function()
      raises(function() ffi.new("enum ty_color", "TY_PINK") end,
        "cannot convert 'string' to 'enum ty_color'")
    end)

    it("too many initializers is an error", function()
      raises(function() ffi.new("int", 1, 2) end, "too many initializers")
    end)

    it("an unconvertible initializer is an error", function()
      raises(function() ffi.new("int", "12") end, "cannot convert 'string' to 'int'")
      raises(function() ffi.new("double", {}) end, "cannot convert 'table' to 'double'")
    end)
  end)

  describe("arrays", function()
    it("are zero-filled without initializers", function()
      assert.same({ 0, 0, 0, 0 }, elems(ffi.new("int[4]"), 4))
    end)

    it("take a list of initializers", function()
      assert.same({ 1, 2, 3, 0 }, elems(ffi.new("int[4]", 1, 2, 3), 4))
    end)

    it("replicate a single initializer", function()
      assert.same({ 7, 7, 7, 7 }, elems(ffi.new("int[4]", 7), 4))
    end)

    it("do not replicate two initializers", function()
      assert.same({ 7, 8, 0, 0 }, elems(ffi.new("int[4]", 7, 8), 4))
    end)

    it("take a 1-based table", function()
      assert.same({ 1, 2, 3, 0 }, elems(ffi.new("int[4]", { 1, 2, 3 }), 4))
    end)

    it("take a 0-based table", function()
      assert.same({ 5, 6, 7, 0 }, elems(ffi.new("int[4]", { [0] = 5, 6, 7 }), 4))
    end)

    it("stop at the first nil in a table", function()
      assert.same({ 1, 2, 0, 0, 0 }, elems(ffi.new("int[5]", { 1, 2, nil, 4 }), 5))
    end)

    it("replicate a single table element", function()
      assert.same({ 4, 4, 4 }, elems(ffi.new("int[3]", { 4 }), 3))
    end)

    it("too many initializers is an error", function()
      raises(function() ffi.new("int[3]", 1, 2, 3, 4) end, "too many initializers")
      raises(function() ffi.new("int[2]", { 1, 2, 3 }) end, "too many initializers")
    end)

    it("multi-dimensional from nested tables", function()
      local m = ffi.new("int[2][3]", { { 1, 2, 3 }, { 4, 5, 6 } })
      assert.same({ 1, 2, 3 }, elems(m[0], 3))
      assert.same({ 4, 5, 6 }, elems(m[1], 3))
    end)

    it("char arrays from a string, with the NUL", function()
      local a = ffi.new("char[8]", "abc")
      assert.equal("abc", ffi.string(a))
      assert.same({ 97, 98, 99, 0, 0 }, elems(a, 5))
    end)

    it("a string longer than a fixed array is cut at its size", function()
      local a = ffi.new("char[3]", "hello")
      assert.equal("hel", ffi.string(a, 3))
    end)

    it("uint8_t arrays from a string", function()
      assert.same({ 104, 105, 0 }, elems(ffi.new("uint8_t[3]", "hi"), 3))
    end)

    it("arrays of structs from tables", function()
      local a = ffi.new("struct ty_pt[2]", { { 1, 2 }, { x = 3, y = 4 } })
      assert.same({ 1, 2, 3, 4 }, { a[0].x, a[0].y, a[1].x, a[1].y })
    end)

    it("a copy of an array of the same type", function()
      local a = ffi.new("int[3]", 1, 2, 3)
      local b = ffi.new("int[3]", a)
      a[0] = 9
      assert.same({ 1, 2, 3 }, elems(b, 3))
    end)
  end)

  describe("variable-length arrays", function()
    it("take the element count", function()
      local v = ffi.new("int[?]", 6)
      assert.equal(24, ffi.sizeof(v))
      assert.same({ 0, 0, 0, 0, 0, 0 }, elems(v, 6))
    end)

    it("replicate a single initializer", function()
      assert.same({ 3, 3, 3 }, elems(ffi.new("int[?]", 3, 3), 3))
    end)

    it("take a list of initializers", function()
      assert.same({ 1, 2, 0 }, elems(ffi.new("int[?]", 3, 1, 2), 3))
    end)

    it("do not replicate from a table", function()
      assert.same({ 4, 0, 0 }, elems(ffi.new("double[?]", 3, { 4 }), 3))
    end)

    it("with zero elements", function()
      assert.equal(0, ffi.sizeof(ffi.new("int[?]", 0)))
    end)

    it("char VLA from a string copies the NUL", function()
      local v = ffi.new("char[?]", 6, "hello")
      assert.equal(0, v[5])
      assert.equal("hello", ffi.string(v))
    end)

    it("require the element count", function()
      raises(function() ffi.new("int[?]") end, "bad argument #2 to 'new'")
    end)

    it("reject a negative element count", function()
      raises(function() ffi.new("int[?]", -1) end, "size of C type is unknown or too large")
    end)
  end)

  describe("structs", function()
    it("are zero-filled without initializers", function()
      local p = ffi.new("struct ty_pt")
      assert.same({ 0, 0 }, { p.x, p.y })
    end)

    it("take positional initializers", function()
      local p = ffi.new("struct ty_pt", 1, 2)
      assert.same({ 1, 2 }, { p.x, p.y })
    end)

    it("zero-fill fields not given", function()
      local p = ffi.new("struct ty_pt", 1)
      assert.same({ 1, 0 }, { p.x, p.y })
    end)

    it("take a positional table", function()
      local p = ffi.new("struct ty_pt", { 5, 6 })
      assert.same({ 5, 6 }, { p.x, p.y })
    end)

    it("take a 0-based positional table", function()
      local p = ffi.new("struct ty_pt", { [0] = 7, 8 })
      assert.same({ 7, 8 }, { p.x, p.y })
    end)

    it("take a table keyed by field names", function()
      local p = ffi.new("struct ty_pt", { y = 9 })
      assert.same({ 0, 9 }, { p.x, p.y })
    end)

    it("take nested aggregates as tables", function()
      local r = ffi.new("struct ty_rect", { tl = { 1, 2 }, br = { x = 3, y = 4 } })
      assert.same({ 1, 2, 3, 4 }, { r.tl.x, r.tl.y, r.br.x, r.br.y })
    end)

    it("take nested aggregates positionally", function()
      local r = ffi.new("struct ty_rect", { 1, 2 }, { 3, 4 })
      assert.same({ 1, 2, 3, 4 }, { r.tl.x, r.tl.y, r.br.x, r.br.y })
    end)

    it("take nested aggregates as cdata", function()
      local r = ffi.new("struct ty_rect", ffi.new("struct ty_pt", 1, 2), { 3, 4 })
      assert.same({ 1, 2, 3, 4 }, { r.tl.x, r.tl.y, r.br.x, r.br.y })
    end)

    it("mix scalars, arrays and strings", function()
      local s = "text"
      local m = ffi.new("struct ty_mix", { c = 65, d = 2.5, arr = { 1, 2, 3 }, s = s })
      assert.same({ 65, 2.5, 1, 2, 3 }, { m.c, m.d, m.arr[0], m.arr[1], m.arr[2] })
      assert.equal("text", ffi.string(m.s))
    end)

    it("a copy of a struct of the same type", function()
      local a = ffi.new("struct ty_pt", 1, 2)
      local b = ffi.new("struct ty_pt", a)
      a.x = 10
      assert.same({ 1, 2 }, { b.x, b.y })
    end)

    it("ignore table keys that name no field", function()
      local p = ffi.new("struct ty_pt", { x = 1, z = 2 })
      assert.same({ 1, 0 }, { p.x, p.y })
    end)

    it("excess flat initializers are an error", function()
      raises(function() ffi.new("struct ty_pt", 1, 2, 3) end, "too many initializers")
    end)

    it("excess positional table entries are ignored", function()
      local p = ffi.new("struct ty_pt", { 1, 2, 3 })
      assert.same({ 1, 2 }, { p.x, p.y })
    end)

    it("a struct of another type is an error", function()
      -- (as in LuaJIT it is taken as the flat initializer of the first field)
      raises(function() ffi.new("struct ty_pt", ffi.new("struct ty_rect")) end,
        "cannot convert 'cdata<struct ty_rect>' to '")
    end)
  end)

  describe("unions", function()
    it("initialize the first field from a flat initializer", function()
      local u = ffi.new("union ty_u", 0x01020304)
      assert.equal(0x01020304, u.i)
      assert.equal(4, u.b[0])
    end)

    it("initialize a named field from a table", function()
      local u = ffi.new("union ty_u", { f = 1.0 })
      assert.equal(0x3f800000, u.i)
    end)

    it("take only one flat initializer", function()
      raises(function() ffi.new("union ty_u", 1, 2) end, "too many initializers")
    end)
  end)

  describe("variable-length structs", function()
    it("take the element count of the last member", function()
      local v = ffi.new("struct ty_vls", 3)
      assert.equal(4 + 3 * 4, ffi.sizeof(v))
    end)

    it("initialize the fields and the variable part", function()
      local v = ffi.new("struct ty_vls", 3, 3, { 10, 20, 30 })
      assert.equal(3, v.n)
      assert.same({ 10, 20, 30 }, elems(v.d, 3))
    end)
  end)

  describe("complex", function()
    it("from two numbers", function()
      local c = ffi.new("complex", 1.5, -2)
      assert.same({ 1.5, -2 }, { c.re, c.im })
    end)

    it("from one number", function()
      local c = ffi.new("complex double", 3)
      assert.same({ 3, 0 }, { c.re, c.im })
    end)

    it("complex float from a table", function()
      local c = ffi.new("complex float", { 0.5, 0.25 })
      assert.same({ 0.5, 0.25 }, { c.re, c.im })
    end)
  end)

  describe("vectors", function()
    it("load, store and initialize", function()
      ffi.cdef("typedef int ty_v4si __attribute__((vector_size(16)));")
      local v = ffi.new("ty_v4si", 1, 2, 3, 4)
      assert.same({ 1, 2, 3, 4 }, elems(v, 4))
      v[2] = 30
      assert.equal(30, v[2])
    end)
  end)

  describe("errors", function()
    it("an incomplete type cannot be created", function()
      raises(function() ffi.new("struct ty_opaque") end, "size of C type is unknown or too large")
      raises(function() ffi.new("void") end, "size of C type is unknown or too large")
      raises(function() ffi.new("int[]") end, "size of C type is unknown or too large")
    end)

    it("a bad type string names itself", function()
      raises(function() ffi.new("ty_nosuch_t") end, "invalid C type 'ty_nosuch_t'")
    end)
  end)
end)

describe("ffi.cast", function()
  it("returns cdata of the target type", function()
    local c = ffi.cast("int", 5)
    assert.is_true(ffi.istype("int", c))
    assert.equal(5, num(c))
  end)

  it("truncates and wraps integers", function()
    assert.equal(1, num(ffi.cast("uint8_t", 257)))
    assert.equal(-1, num(ffi.cast("int8_t", 255)))
    assert.equal(-32768, num(ffi.cast("int16_t", 32768)))
    assert.equal(4294967295, num(ffi.cast("uint32_t", -1)))
    assert.equal(7, num(ffi.cast("int32_t", 0x100000007)))
  end)

  it("truncates floats toward zero", function()
    assert.equal(3, num(ffi.cast("int", 3.99)))
    assert.equal(-3, num(ffi.cast("int", -3.99)))
  end)

  it("between number cdata", function()
    assert.equal(5.0, num(ffi.cast("double", ffi.new("int", 5))))
    assert.equal(2, num(ffi.cast("short", ffi.new("double", 2.9))))
  end)

  it("integers to pointers and back", function()
    local p = ffi.cast("void *", 0x1234)
    assert.equal(0x1234, num(ffi.cast("uintptr_t", p)))
    assert.equal(0x1234, num(ffi.cast("intptr_t", p)))
  end)

  it("a pointer to a narrower integer keeps the low bits", function()
    local p = ffi.cast("void *", 0x100001234)
    assert.equal(0x1234, num(ffi.cast("uint16_t", p)))
  end)

  it("between pointer types", function()
    local a = ffi.new("int[2]", 0x01020304, 0)
    local b = ffi.cast("unsigned char *", a)
    assert.equal(4, b[0])
    local back = ffi.cast("int *", b)
    assert.equal(0x01020304, back[0])
  end)

  it("drops const", function()
    local a = ffi.new("int[1]", 5)
    local cp = ffi.cast("const int *", a)
    local p = ffi.cast("int *", cp)
    p[0] = 6
    assert.equal(6, a[0])
  end)

  it("a string to const char * points at its bytes", function()
    local s = "hello"
    local p = ffi.cast("const char *", s)
    assert.equal(104, p[0])
    assert.equal("hello", ffi.string(p))
  end)

  it("nil to a pointer gives a NULL cdata", function()
    local p = ffi.cast("int *", nil)
    assert.is_not_nil(p)
    assert.is_true(ffi.isnull(p))
  end)

  it("0 to a pointer gives a NULL cdata", function()
    local p = ffi.cast("void *", 0)
    assert.is_true(ffi.isnull(p))
    assert.equal(T("void *"), T(p))
  end)

  it("an enum from a number", function()
    assert.equal(2, num(ffi.cast("enum ty_color", 2)))
  end)

  it("cannot make a struct", function()
    raises(function() ffi.cast("struct ty_pt", 1) end, "cannot convert 'number' to 'struct ty_pt'")
  end)

  it("cannot convert a table", function()
    raises(function() ffi.cast("int", {}) end, "cannot convert 'table' to 'int'")
  end)

  it("cannot convert nil to a number type", function()
    raises(function() ffi.cast("int", nil) end, "cannot convert 'nil' to 'int'")
  end)

  it("a struct cdata to an integer is an error", function()
    raises(function() ffi.cast("int", ffi.new("struct ty_pt")) end,
      "cannot convert 'cdata<struct ty_pt>' to 'int'")
  end)
end)

describe("ffi.sizeof", function()
  it("of type strings, ctypes and cdata", function()
    assert.equal(8, ffi.sizeof("struct ty_pt"))
    assert.equal(8, ffi.sizeof(T("struct ty_pt")))
    assert.equal(8, ffi.sizeof(ffi.new("struct ty_pt")))
  end)

  it("of a VLA type with nelem", function()
    assert.equal(12, ffi.sizeof("int[?]", 3))
    assert.equal(12, ffi.sizeof(T("int[?]"), 3))
  end)

  it("of VLA and VLS instances", function()
    assert.equal(28, ffi.sizeof(ffi.new("int[?]", 7)))
    assert.equal(4 + 5 * 4, ffi.sizeof(ffi.new("struct ty_vls", 5)))
  end)

  it("of a VLS type with nelem", function()
    assert.equal(4 + 2 * 4, ffi.sizeof("struct ty_vls", 2))
  end)

  it("of a VLA type without nelem is an error", function()
    raises(function() ffi.sizeof("int[?]") end, "bad argument #2 to 'sizeof'")
  end)

  it("is nil for incomplete and function types", function()
    assert.is_nil(ffi.sizeof("struct ty_opaque"))
    assert.is_nil(ffi.sizeof("void"))
    assert.is_nil(ffi.sizeof("int (int)"))
  end)

  it("returns integers", function()
    assert.equal("integer", math.type(ffi.sizeof("int")))
  end)
end)

describe("ffi.alignof", function()
  it("of primitives and structs", function()
    assert.equal(1, ffi.alignof("char"))
    assert.equal(4, ffi.alignof("int"))
    assert.equal(8, ffi.alignof("double"))
    assert.equal(4, ffi.alignof("struct ty_pt"))
    assert.equal(8, ffi.alignof("struct ty_mix"))
    assert.equal(4, ffi.alignof(ffi.new("int[3]")))
  end)

  it("returns integers", function()
    assert.equal("integer", math.type(ffi.alignof("int")))
  end)
end)

describe("ffi.offsetof", function()
  it("of fields", function()
    assert.equal(0, ffi.offsetof("struct ty_mix", "c"))
    assert.equal(8, ffi.offsetof("struct ty_mix", "d"))
    assert.equal(16, ffi.offsetof("struct ty_mix", "arr"))
    assert.equal(32, ffi.offsetof("struct ty_mix", "s"))
    assert.equal(8, ffi.offsetof(T("struct ty_rect"), "br"))
  end)

  it("returns one value for an ordinary field", function()
    assert.equal(1, select("#", ffi.offsetof("struct ty_pt", "y")))
  end)

  it("returns offset, bit position and size for a bitfield", function()
    ffi.cdef("struct ty_bits { unsigned a : 4; unsigned b : 7; };")
    assert.same({ 0, 4, 7 }, { ffi.offsetof("struct ty_bits", "b") })
  end)

  it("is nil for a missing field", function()
    assert.is_nil(ffi.offsetof("struct ty_pt", "z"))
  end)

  it("is nil for a non-struct type", function()
    assert.is_nil(ffi.offsetof("int", "x"))
  end)
end)

describe("ffi.istype", function()
  it("true for a cdata of the type", function()
    assert.is_true(ffi.istype("int", ffi.new("int")))
    assert.is_true(ffi.istype("struct ty_pt", ffi.new("struct ty_pt")))
    assert.is_true(ffi.istype("int[3]", ffi.new("int[3]")))
  end)

  it("false for another type", function()
    assert.is_false(ffi.istype("int", ffi.new("long")))
    assert.is_false(ffi.istype("int[4]", ffi.new("int[3]")))
    assert.is_false(ffi.istype("struct ty_rect", ffi.new("struct ty_pt")))
  end)

  it("false for non-cdata", function()
    assert.is_false(ffi.istype("int", 5))
    assert.is_false(ffi.istype("const char *", "str"))
    assert.is_false(ffi.istype("int", nil))
    assert.is_false(ffi.istype("int", {}))
  end)

  it("ignores qualifiers of the value type", function()
    assert.is_true(ffi.istype("const int", ffi.new("int")))
  end)

  it("accepts a pointer to the struct", function()
    local a = ffi.new("struct ty_pt[1]")
    assert.is_true(ffi.istype("struct ty_pt", ffi.cast("struct ty_pt *", a)))
  end)

  it("checks pointer compatibility, qualifiers ignored", function()
    local p = ffi.new("int *")
    assert.is_true(ffi.istype("int *", p))
    assert.is_true(ffi.istype("const int *", p))
    -- LuaJIT: "C type qualifiers (const etc.) are ignored", pointees too
    assert.is_true(ffi.istype("int *", ffi.new("const int *")))
    assert.is_false(ffi.istype("double *", p))
    assert.is_false(ffi.istype("int **", p))
    assert.is_false(ffi.istype("unsigned int *", p))
  end)

  it("ignores long versus long long of one size, not signedness", function()
    assert.is_true(ffi.istype("long", ffi.new("long long")))
    assert.is_true(ffi.istype("int64_t", ffi.new("long")))
    assert.is_false(ffi.istype("long", ffi.new("unsigned long")))
    assert.is_false(ffi.istype("int", ffi.new("unsigned int")))
  end)

  it("does not treat void * specially", function()
    assert.is_false(ffi.istype("void *", ffi.new("int *")))
  end)

  it("sees through references", function()
    local r = ffi.new("struct ty_rect")
    assert.is_true(ffi.istype("struct ty_pt", r.tl))
  end)

  it("takes ctype objects", function()
    assert.is_true(ffi.istype(T("double"), ffi.new("double")))
  end)
end)

describe("ffi.string", function()
  it("reads up to the NUL", function()
    local a = ffi.new("char[10]", "abc")
    assert.equal("abc", ffi.string(a))
  end)

  it("reads len bytes, NULs included", function()
    local a = ffi.new("char[5]", { 97, 0, 98, 0, 99 })
    assert.equal("a\0b\0c", ffi.string(a, 5))
  end)

  it("reads zero bytes", function()
    assert.equal("", ffi.string(ffi.new("char[1]"), 0))
  end)

  it("of a pointer", function()
    local a = ffi.new("char[6]", "hello")
    local p = ffi.cast("const char *", a) + 1
    assert.equal("ello", ffi.string(p))
  end)

  it("of a void pointer with a length", function()
    local a = ffi.new("uint8_t[3]", 65, 66, 67)
    assert.equal("ABC", ffi.string(ffi.cast("void *", a), 3))
  end)

  it("of a NULL pointer is an error", function()
    raises(function() ffi.string(ffi.new("char *")) end, "NULL pointer")
  end)

  it("of nil is an error", function()
    raises(function() ffi.string(nil) end, "NULL pointer")
  end)

  it("of a number is an error", function()
    raises(function() ffi.string(5) end, "cannot convert 'number'")
  end)

  it("returns a Lua string", function()
    assert.equal("string", type(ffi.string(ffi.new("char[2]", "x"))))
  end)
end)

describe("ffi.copy", function()
  it("copies len bytes", function()
    local src = ffi.new("int[3]", 1, 2, 3)
    local dst = ffi.new("int[3]")
    ffi.copy(dst, src, 8)
    assert.same({ 1, 2, 0 }, elems(dst, 3))
  end)

  it("copies a Lua string with its NUL", function()
    local dst = ffi.new("char[8]", "xxxxxxx")
    ffi.copy(dst, "abc")
    assert.same({ 97, 98, 99, 0, 120 }, elems(dst, 5))
  end)

  it("copies part of a Lua string", function()
    local dst = ffi.new("char[4]")
    ffi.copy(dst, "abcdef", 2)
    assert.same({ 97, 98, 0, 0 }, elems(dst, 4))
  end)

  it("to a pointer into the middle of an array", function()
    local dst = ffi.new("char[6]")
    ffi.copy(ffi.cast("char *", dst) + 2, "hi", 2)
    assert.same({ 0, 0, 104, 105, 0, 0 }, elems(dst, 6))
  end)

  it("from or to NULL is an error", function()
    raises(function() ffi.copy(ffi.new("char[4]"), nil, 2) end, "NULL pointer")
    raises(function() ffi.copy(nil, "ab", 2) end, "NULL pointer")
  end)

  it("rejects a non-pointer destination", function()
    raises(function() ffi.copy(5, "abc") end, "cannot convert 'number'")
  end)
end)

describe("ffi.fill", function()
  it("fills with zero by default", function()
    local a = ffi.new("int[3]", 1, 2, 3)
    ffi.fill(a, 8)
    assert.same({ 0, 0, 3 }, elems(a, 3))
  end)

  it("fills with a byte value", function()
    local a = ffi.new("uint8_t[4]")
    ffi.fill(a, 3, 0x41)
    assert.same({ 65, 65, 65, 0 }, elems(a, 4))
  end)

  it("of NULL is an error", function()
    raises(function() ffi.fill(nil, 4) end, "NULL pointer")
  end)

  it("uses the low byte of the value", function()
    local a = ffi.new("uint8_t[2]")
    ffi.fill(a, 2, 0x1ff)
    assert.same({ 255, 255 }, elems(a, 2))
  end)
end)

describe("ffi.abi, ffi.os, ffi.arch", function()
  it("answers the word size", function()
    assert.is_true(ffi.abi("64bit"))
    assert.is_false(ffi.abi("32bit"))
  end)

  it("answers the byte order", function()
    assert.is_true(ffi.abi("le"))
    assert.is_false(ffi.abi("be"))
  end)

  it("answers the rest as LuaJIT does on this machine", function()
    assert.is_true(ffi.abi("fpu"))
    assert.is_true(ffi.abi("hardfp"))
    assert.is_false(ffi.abi("softfp"))
    assert.is_false(ffi.abi("win"))
    assert.is_false(ffi.abi("eabi"))
  end)

  it("answers false for an unknown parameter", function()
    assert.is_false(ffi.abi("no-such-abi"))
  end)

  it("ffi.os is Linux", function()
    assert.equal("Linux", ffi.os)
  end)

  it("ffi.arch names this machine", function()
    local uname = io.popen("uname -m"):read("l")
    local want = ({ x86_64 = "x64", aarch64 = "arm64" })[uname]
    assert.equal(want, ffi.arch)
  end)
end)

describe("ffi.nullptr", function()
  it("is a NULL void * cdata", function()
    assert.equal(T("void *"), T(ffi.nullptr))
    assert.is_true(ffi.isnull(ffi.nullptr))
    assert.equal(0, num(ffi.cast("uintptr_t", ffi.nullptr)))
  end)

  it("is not nil in Lua 5.4", function()
    assert.is_false(ffi.nullptr == nil)
  end)

  it("prints as NULL", function()
    assert.equal("cdata<void *>: NULL", tostring(ffi.nullptr))
  end)
end)

describe("ffi.isnull", function()
  it("true for nil and NULL pointers", function()
    assert.is_true(ffi.isnull(nil))
    assert.is_true(ffi.isnull(ffi.cast("char *", 0)))
  end)

  it("false for other pointers and values", function()
    assert.is_false(ffi.isnull(ffi.cast("char *", 1)))
    assert.is_false(ffi.isnull(0))
    assert.is_false(ffi.isnull(ffi.new("int")))
  end)
end)

describe("ffi.tonumber", function()
  it("integer cdata give integers", function()
    assert.equal(5, num(ffi.new("int", 5)))
    assert.equal("integer", math.type(num(ffi.new("int", 5))))
    assert.equal("integer", math.type(num(ffi.new("uint64_t", 5))))
  end)

  it("uint64_t above 2^63 keeps its bits", function()
    assert.equal(math.mininteger, num(ffi.new("uint64_t", math.mininteger)))
    assert.equal(-1, num(ffi.cast("uint64_t", -1)))
  end)

  it("float cdata give floats", function()
    assert.equal(0.5, num(ffi.new("float", 0.5)))
    assert.equal("float", math.type(num(ffi.new("double", 2))))
  end)

  it("bool cdata give numbers", function()
    assert.equal(1, num(ffi.new("bool", true)))
  end)

  it("enum cdata give their value", function()
    assert.equal(7, num(ffi.new("enum ty_color", "TY_BLUE")))
  end)

  it("complex cdata give the real part", function()
    assert.equal(1.5, num(ffi.new("complex", 1.5, 2)))
  end)

  it("numbers and strings as tonumber does", function()
    assert.equal(12, num(12))
    assert.equal(12, num("12"))
    assert.equal(255, num("ff", 16))
    assert.is_nil(num("x"))
    assert.is_nil(num({}))
  end)

  it("pointer and struct cdata give nil", function()
    assert.is_nil(num(ffi.new("int *")))
    assert.is_nil(num(ffi.new("struct ty_pt")))
  end)
end)
