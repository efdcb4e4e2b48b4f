-- ffi.cdef and type strings: every declaration form of issue 2, constant
-- expressions, #define, #pragma pack, attributes, `$` parameters, errors
-- (line and token), redeclaration rules and rollback of a failed cdef.
-- Names declared here start with cd_ / CD_: the cffi state is shared by
-- every spec file of a busted run.
local ffi = require "cffi"
local support = require "support"

local raises = support.raises

local T = ffi.typeof

-- Value of an integer constant expression, through an array size.
local function val(expr)
  return ffi.sizeof("char[" .. expr .. "]")
end

describe("primitive type names", function()
  local sizes = {
    { "bool", 1 }, { "_Bool", 1 }, { "char", 1 }, { "signed char", 1 },
    { "unsigned char", 1 }, { "short", 2 }, { "short int", 2 },
    { "signed short", 2 }, { "unsigned short", 2 }, { "unsigned short int", 2 },
    { "short unsigned int", 2 }, { "int", 4 }, { "signed", 4 },
    { "signed int", 4 }, { "unsigned", 4 }, { "unsigned int", 4 },
    { "int unsigned", 4 }, { "long", 8 }, { "long int", 8 }, { "signed long", 8 },
    { "unsigned long", 8 }, { "long unsigned int", 8 }, { "long long", 8 },
    { "long long int", 8 }, { "signed long long", 8 }, { "unsigned long long", 8 },
    { "long long unsigned int", 8 }, { "float", 4 }, { "double", 8 },
    { "long double", 16 }, { "int8_t", 1 }, { "uint8_t", 1 }, { "int16_t", 2 },
    { "uint16_t", 2 }, { "int32_t", 4 }, { "uint32_t", 4 }, { "int64_t", 8 },
    { "uint64_t", 8 }, { "intptr_t", 8 }, { "uintptr_t", 8 }, { "ptrdiff_t", 8 },
    { "size_t", 8 }, { "ssize_t", 8 }, { "wchar_t", 4 }, { "char16_t", 2 },
    { "char32_t", 4 }, { "va_list", 8 }, { "__builtin_va_list", 8 },
    { "__gnuc_va_list", 8 }, { "complex", 16 }, { "complex double", 16 },
    { "complex float", 8 }, { "_Complex double", 16 }, { "double _Complex", 16 },
    { "float _Complex", 8 }, { "__int8", 1 }, { "__int16", 2 }, { "__int32", 4 },
    { "__int64", 8 }, { "unsigned __int64", 8 }, { "void *", 8 },
    { "const char *", 8 },
  }
  for _, c in ipairs(sizes) do
    it(("sizeof '%s' is %d"):format(c[1], c[2]), function()
      assert.equal(c[2], ffi.sizeof(c[1]))
    end)
  end

  it("void has no size", function()
    assert.is_nil(ffi.sizeof("void"))
  end)

  it("spellings of one type are one ctype", function()
    assert.equal(T("unsigned int"), T("unsigned"))
    assert.equal(T("unsigned int"), T("int unsigned"))
    assert.equal(T("unsigned long"), T("long unsigned int"))
    assert.equal(T("short"), T("signed short int"))
    assert.equal(T("int"), T("signed"))
    assert.equal(T("long long"), T("long long signed int"))
    assert.equal(T("bool"), T("_Bool"))
    assert.equal(T("complex"), T("complex double"))
    assert.equal(T("complex double"), T("double _Complex"))
  end)

  it("predefined typedefs are the types they name", function()
    assert.equal(T("int8_t"), T("signed char"))
    assert.equal(T("uint8_t"), T("unsigned char"))
    assert.equal(T("int16_t"), T("short"))
    assert.equal(T("uint16_t"), T("unsigned short"))
    assert.equal(T("int32_t"), T("int"))
    assert.equal(T("uint32_t"), T("unsigned int"))
    assert.equal(T("int64_t"), T("long long"))
    assert.equal(T("uint64_t"), T("unsigned long long"))
    assert.equal(T("size_t"), T("unsigned long"))
    assert.equal(T("__int32"), T("int"))
    assert.equal(T("unsigned __int64"), T("uint64_t"))
  end)

  it("char, signed char and unsigned char are three types", function()
    assert.are_not.equal(T("char"), T("signed char"))
    assert.are_not.equal(T("char"), T("unsigned char"))
    assert.are_not.equal(T("signed char"), T("unsigned char"))
  end)

  it("long and long long are distinct types of one size", function()
    assert.are_not.equal(T("long"), T("long long"))
    assert.equal(ffi.sizeof("long"), ffi.sizeof("long long"))
  end)

  it("prints primitive types by their C names", function()
    local names = {
      ["int"] = "int", ["unsigned"] = "unsigned int", ["char"] = "char",
      ["unsigned char"] = "unsigned char", ["short"] = "short",
      ["unsigned short"] = "unsigned short", ["long"] = "long",
      ["unsigned long"] = "unsigned long", ["size_t"] = "unsigned long",
      ["long long"] = "int64_t", ["unsigned long long"] = "uint64_t",
      ["float"] = "float", ["double"] = "double", ["long double"] = "long double",
      ["bool"] = "bool", ["void"] = "void", ["void *"] = "void *",
      ["char *"] = "char *", ["const char *"] = "const char *",
      ["wchar_t"] = "wchar_t", ["va_list"] = "va_list",
    }
    for spelling, name in pairs(names) do
      assert.equal("ctype<" .. name .. ">", tostring(T(spelling)), spelling)
    end
  end)

  it("signedness follows the spelling", function()
    assert.equal(65535, ffi.tonumber(ffi.cast("short unsigned", -1)))
    assert.equal(-1, ffi.tonumber(ffi.cast("signed", -1)))
    assert.equal(4294967295, ffi.tonumber(ffi.cast("unsigned", -1)))
    assert.equal(255, ffi.tonumber(ffi.cast("unsigned char", -1)))
    assert.equal(-1, ffi.tonumber(ffi.cast("signed char", 255)))
    assert.equal(-1, ffi.tonumber(ffi.cast("__int8", 255)))
  end)
end)

describe("qualifiers", function()
  it("const on a value is not part of its type", function()
    assert.equal(T("int"), T("const int"))
    assert.equal(T("int"), T("volatile int"))
    assert.equal(T("int"), T("const volatile int"))
  end)

  it("const on a pointee is kept", function()
    assert.are_not.equal(T("char *"), T("const char *"))
    assert.equal("ctype<const char *>", tostring(T("const char *")))
  end)

  it("const may follow the type it qualifies", function()
    assert.equal(T("const char *"), T("char const *"))
  end)

  it("a qualified pointer itself is the plain pointer type", function()
    assert.equal(T("char *"), T("char *const"))
    assert.equal(T("int *"), T("int *restrict"))
    assert.equal(T("int *"), T("int *__restrict"))
    assert.equal(T("int *"), T("int *__restrict__"))
  end)

  it("volatile on a pointee is kept", function()
    assert.are_not.equal(T("int *"), T("volatile int *"))
  end)

  it("accepts the __const__ family of spellings", function()
    assert.equal(T("const char *"), T("__const char *"))
    assert.equal(T("const char *"), T("__const__ char *"))
    assert.equal(T("volatile int *"), T("__volatile__ int *"))
    assert.equal(T("volatile int *"), T("__volatile int *"))
    assert.equal(T("int"), T("__signed__ int"))
    assert.equal(T("int"), T("__signed int"))
  end)
end)

describe("declarators", function()
  it("sized arrays", function()
    assert.equal(40, ffi.sizeof("int[10]"))
    assert.equal("ctype<int[10]>", tostring(T("int[10]")))
  end)

  it("multi-dimensional arrays", function()
    assert.equal(24, ffi.sizeof("int[2][3]"))
    assert.equal("ctype<int[2][3]>", tostring(T("int[2][3]")))
    assert.equal(T("int[2][3]"), T("int [2] [3]"))
  end)

  it("arrays of pointers and pointers to arrays", function()
    assert.equal(24, ffi.sizeof("int *[3]"))
    assert.equal(8, ffi.sizeof("int (*)[3]"))
    assert.are_not.equal(T("int *[3]"), T("int (*)[3]"))
    assert.equal("ctype<int *[3]>", tostring(T("int *[3]")))
    assert.equal("ctype<int (*)[3]>", tostring(T("int (*)[3]")))
  end)

  it("incomplete arrays have no size", function()
    assert.is_nil(ffi.sizeof("int[]"))
    assert.equal("ctype<int[]>", tostring(T("int[]")))
  end)

  it("variable-length arrays take their size from nelem", function()
    assert.equal("ctype<int[?]>", tostring(T("int[?]")))
    assert.equal(40, ffi.sizeof("int[?]", 10))
    assert.equal(0, ffi.sizeof("double[?]", 0))
    assert.equal(24, ffi.sizeof("double[?]", 3))
  end)

  it("function pointers", function()
    assert.equal(8, ffi.sizeof("int (*)(int, int)"))
    assert.equal("ctype<int (*)(int, int)>", tostring(T("int (*)(int, int)")))
    assert.equal(T("int (*)(int, int)"), T("int(*)(int,int)"))
  end)

  it("a function type has no size", function()
    assert.is_nil(ffi.sizeof("int (int)"))
  end)

  it("variadic function pointers", function()
    assert.equal("ctype<int (*)(const char *, ...)>",
      tostring(T("int (*)(const char *, ...)")))
    assert.are_not.equal(T("int (*)(int, ...)"), T("int (*)(int)"))
  end)

  it("(void) and () both mean no parameters", function()
    assert.equal(T("int (*)(void)"), T("int (*)()"))
  end)

  it("parameter names do not change the type", function()
    assert.equal(T("int (*)(int, double)"), T("int (*)(int a, double b)"))
  end)

  it("array and function parameters decay to pointers", function()
    assert.equal(T("void (*)(int *)"), T("void (*)(int [10])"))
    assert.equal(T("void (*)(int *)"), T("void (*)(int a[])"))
    assert.equal(T("void (*)(int (*)(int))"), T("void (*)(int (int))"))
  end)

  it("pointers to functions returning function pointers", function()
    ffi.cdef [[
      typedef int (*cd_fp_t)(double);
      typedef cd_fp_t (*cd_fpfp_t)(int);
      typedef int (*(*cd_fpfp2_t)(int))(double);
    ]]
    assert.equal(T("cd_fpfp_t"), T("int (*(*)(int))(double)"))
    assert.equal(T("cd_fpfp_t"), T("cd_fpfp2_t"))
    assert.equal(8, ffi.sizeof("cd_fpfp_t"))
  end)

  it("a function returning a function pointer is declarable", function()
    ffi.cdef("int (*cd_getfn(int which))(double);")
  end)

  it("arrays of function pointers", function()
    assert.equal(32, ffi.sizeof("int (*[4])(int)"))
  end)

  it("C++ references", function()
    assert.are_not.equal(T("int &"), T("int *"))
    assert.equal("ctype<int &>", tostring(T("int &")))
  end)

  it("interning: equal types built different ways are one ctype", function()
    assert.equal(T("int *"), T("int*"))
    assert.equal(T("int *"), T(" int  * "))
    assert.equal(T("double **"), T("double * *"))
    assert.equal(T("int[3]"), T("int [3]"))
  end)
end)

describe("typedefs", function()
  it("declares several names in one declaration", function()
    ffi.cdef("typedef int cd_int_t, *cd_intp_t, cd_int3_t[3];")
    assert.equal(T("int"), T("cd_int_t"))
    assert.equal(T("int *"), T("cd_intp_t"))
    assert.equal(T("int[3]"), T("cd_int3_t"))
  end)

  it("typedef struct {...} name, *pointer", function()
    ffi.cdef("typedef struct { int x, y; } cd_point_t, *cd_point_p;")
    assert.equal(8, ffi.sizeof("cd_point_t"))
    assert.equal(T("cd_point_t *"), T("cd_point_p"))
  end)

  it("typedefs of typedefs", function()
    ffi.cdef("typedef unsigned int cd_u32; typedef cd_u32 cd_u32b; typedef cd_u32b *cd_u32p;")
    assert.equal(T("unsigned int"), T("cd_u32b"))
    assert.equal(T("unsigned int *"), T("cd_u32p"))
  end)

  it("typedef of a function type", function()
    ffi.cdef("typedef int cd_fn_t(int, int);")
    assert.equal(T("int (*)(int, int)"), T("cd_fn_t *"))
    assert.is_nil(ffi.sizeof("cd_fn_t"))
  end)

  it("typedef of a const type keeps the value type", function()
    ffi.cdef("typedef const int cd_cint_t;")
    assert.equal(T("int"), T("cd_cint_t"))
    assert.equal(T("const int *"), T("cd_cint_t *"))
  end)

  it("a typedef and a struct tag of the same name coexist", function()
    ffi.cdef("typedef struct cd_same { int a; } cd_same;")
    assert.equal(T("struct cd_same"), T("cd_same"))
  end)

  it("a typedef name shadows nothing in the tag namespace", function()
    ffi.cdef("typedef double cd_tagns; struct cd_tagns { char c[3]; };")
    assert.equal(8, ffi.sizeof("cd_tagns"))
    assert.equal(3, ffi.sizeof("struct cd_tagns"))
  end)
end)

describe("struct and union", function()
  it("prints its tag", function()
    ffi.cdef("struct cd_s1 { int a; }; union cd_u1 { int a; float f; };")
    assert.equal("ctype<struct cd_s1>", tostring(T("struct cd_s1")))
    assert.equal("ctype<union cd_u1>", tostring(T("union cd_u1")))
    assert.equal("ctype<struct cd_s1 *>", tostring(T("struct cd_s1 *")))
  end)

  it("several declarators in one member declaration", function()
    ffi.cdef("struct cd_s2 { int a, *b, c[3]; };")
    assert.equal(0, ffi.offsetof("struct cd_s2", "a"))
    assert.equal(8, ffi.offsetof("struct cd_s2", "b"))
    assert.equal(16, ffi.offsetof("struct cd_s2", "c"))
    assert.equal(32, ffi.sizeof("struct cd_s2"))
  end)

  it("a struct defined inside another is visible by its tag", function()
    ffi.cdef("struct cd_outer { struct cd_inner { int x; short y; } in; char c; };")
    assert.equal(8, ffi.sizeof("struct cd_inner"))
    assert.equal(12, ffi.sizeof("struct cd_outer"))
  end)

  it("anonymous struct and union members are transparent", function()
    ffi.cdef [[
      struct cd_anon {
        int kind;
        union { int i; double d; struct { short lo, hi; }; };
      };
    ]]
    assert.equal(8, ffi.offsetof("struct cd_anon", "i"))
    assert.equal(8, ffi.offsetof("struct cd_anon", "d"))
    assert.equal(8, ffi.offsetof("struct cd_anon", "lo"))
    assert.equal(10, ffi.offsetof("struct cd_anon", "hi"))
    assert.equal(16, ffi.sizeof("struct cd_anon"))
  end)

  it("named nested members are not transparent", function()
    ffi.cdef("struct cd_named { int a; struct { int b; } in; };")
    assert.is_nil(ffi.offsetof("struct cd_named", "b"))
    assert.equal(4, ffi.offsetof("struct cd_named", "in"))
  end)

  it("self-referential structs", function()
    ffi.cdef("struct cd_node { int v; struct cd_node *next; };")
    assert.equal(16, ffi.sizeof("struct cd_node"))
    assert.equal(8, ffi.offsetof("struct cd_node", "next"))
  end)

  it("mutually recursive structs through a forward declaration", function()
    ffi.cdef [[
      struct cd_b;
      struct cd_a { struct cd_b *b; int x; };
      struct cd_b { struct cd_a a; int y; };
    ]]
    assert.equal(16, ffi.sizeof("struct cd_a"))
    assert.equal(24, ffi.sizeof("struct cd_b"))
  end)

  it("opaque structs have no size but pointers to them do", function()
    ffi.cdef("struct cd_opaque; typedef struct cd_opaque cd_opaque_t;")
    assert.is_nil(ffi.sizeof("struct cd_opaque"))
    assert.equal(8, ffi.sizeof("cd_opaque_t *"))
  end)

  it("a forward-declared struct is completed in place", function()
    ffi.cdef("struct cd_later;")
    local p = T("struct cd_later *")
    assert.is_nil(ffi.sizeof("struct cd_later"))
    ffi.cdef("struct cd_later { double a, b; };")
    assert.equal(16, ffi.sizeof("struct cd_later"))
    assert.equal(p, T("struct cd_later *"))
    local arr = ffi.new("struct cd_later[1]")
    ffi.cast(p, arr).b = 2.5
    assert.equal(2.5, arr[0].b)
  end)

  it("a tag used before any declaration is an incomplete type", function()
    assert.equal(8, ffi.sizeof("struct cd_never_declared *"))
    assert.is_nil(ffi.sizeof("struct cd_never_declared"))
  end)

  it("empty structs have size 0", function()
    ffi.cdef("struct cd_empty {};")
    assert.equal(0, ffi.sizeof("struct cd_empty"))
  end)

  it("zero-length trailing arrays add no size", function()
    ffi.cdef("struct cd_zl { int n; char data[0]; };")
    assert.equal(4, ffi.sizeof("struct cd_zl"))
    assert.equal(4, ffi.offsetof("struct cd_zl", "data"))
  end)

  it("flexible array members add no size", function()
    ffi.cdef("struct cd_flex { int n; double d[]; };")
    assert.equal(8, ffi.sizeof("struct cd_flex"))
    assert.equal(8, ffi.offsetof("struct cd_flex", "d"))
  end)

  it("variable-length structs take their size from nelem", function()
    ffi.cdef("struct cd_vls { int n; double d[?]; };")
    assert.equal(8, ffi.offsetof("struct cd_vls", "d"))
    assert.equal(8 + 3 * 8, ffi.sizeof("struct cd_vls", 3))
    assert.equal(8, ffi.sizeof("struct cd_vls", 0))
  end)

  it("unions", function()
    ffi.cdef("union cd_u2 { char c[5]; int i; };")
    assert.equal(8, ffi.sizeof("union cd_u2"))
    assert.equal(4, ffi.alignof("union cd_u2"))
    assert.equal(0, ffi.offsetof("union cd_u2", "i"))
  end)

  it("arrays of function pointers as members", function()
    ffi.cdef("struct cd_vt { int (*handlers[4])(int); char *(*name)(void *); };")
    assert.equal(40, ffi.sizeof("struct cd_vt"))
    assert.equal(32, ffi.offsetof("struct cd_vt", "name"))
  end)

  it("scoped static const members take no storage", function()
    ffi.cdef("struct cd_sc { static const int CD_SCN = 5; int a[3]; };")
    assert.equal(12, ffi.sizeof("struct cd_sc"))
    assert.equal(5, ffi.new("struct cd_sc").CD_SCN)
  end)

  it("constants of an unnamed enum inside a struct are global", function()
    ffi.cdef("struct cd_we { enum { CD_WE_A = 3, CD_WE_B } kind; int v; };")
    assert.equal(8, ffi.sizeof("struct cd_we"))
    assert.equal(4, val("CD_WE_B"))
  end)

  it("bitfields: signed, unsigned and zero-width", function()
    ffi.cdef("struct cd_bits { unsigned a : 3; int b : 5; int : 0; unsigned c : 1; };")
    assert.equal(8, ffi.sizeof("struct cd_bits"))
    assert.same({ 0, 0, 3 }, { ffi.offsetof("struct cd_bits", "a") })
    assert.same({ 0, 3, 5 }, { ffi.offsetof("struct cd_bits", "b") })
    assert.same({ 4, 0, 1 }, { ffi.offsetof("struct cd_bits", "c") })
  end)

  it("unnamed non-zero bitfields take space", function()
    ffi.cdef("struct cd_bits2 { unsigned a : 2; unsigned : 4; unsigned b : 2; };")
    assert.same({ 0, 6, 2 }, { ffi.offsetof("struct cd_bits2", "b") })
  end)

  it("bool bitfields", function()
    ffi.cdef("struct cd_bits3 { bool a : 1; bool b : 1; };")
    assert.equal(1, ffi.sizeof("struct cd_bits3"))
    assert.same({ 0, 1, 1 }, { ffi.offsetof("struct cd_bits3", "b") })
  end)
end)

describe("enums", function()
  it("count from 0 and continue after explicit values", function()
    ffi.cdef("enum cd_e1 { CD_E1_A, CD_E1_B, CD_E1_C = 10, CD_E1_D };")
    assert.equal(0, val("CD_E1_A"))
    assert.equal(1, val("CD_E1_B"))
    assert.equal(10, val("CD_E1_C"))
    assert.equal(11, val("CD_E1_D"))
  end)

  it("are int-sized and print by tag", function()
    assert.equal(4, ffi.sizeof("enum cd_e1"))
    assert.equal("ctype<enum cd_e1>", tostring(T("enum cd_e1")))
  end)

  it("negative values", function()
    ffi.cdef("enum cd_e2 { CD_E2_NEG = -5, CD_E2_NEXT };")
    assert.equal(5, val("CD_E2_NEG + 10"))
    assert.equal(6, val("CD_E2_NEXT + 10"))
    assert.equal(-5, ffi.tonumber(ffi.new("enum cd_e2", "CD_E2_NEG")))
  end)

  it("values referring to earlier constants", function()
    ffi.cdef("enum { CD_E3_A = 4, CD_E3_B = CD_E3_A * 2, CD_E3_C, CD_E3_D = CD_E3_C | 16 };")
    assert.equal(8, val("CD_E3_B"))
    assert.equal(9, val("CD_E3_C"))
    assert.equal(25, val("CD_E3_D"))
  end)

  it("constants of another enum in a later declaration", function()
    ffi.cdef("enum { CD_E4_X = CD_E1_D + CD_E3_A };")
    assert.equal(15, val("CD_E4_X"))
  end)

  it("character literals and a trailing comma", function()
    ffi.cdef("enum cd_e5 { CD_E5_Z = 'z', CD_E5_NL = '\\n', };")
    assert.equal(122, val("CD_E5_Z"))
    assert.equal(10, val("CD_E5_NL"))
  end)

  it("values above INT_MAX make the enum unsigned", function()
    ffi.cdef("enum cd_e6 { CD_E6_BIG = 0x80000000, CD_E6_ONE = 1 };")
    assert.equal(4, ffi.sizeof("enum cd_e6"))
    assert.equal(2147483648, ffi.tonumber(ffi.new("enum cd_e6", "CD_E6_BIG")))
  end)

  it("incomplete enums", function()
    ffi.cdef("enum cd_e7;")
    assert.equal(8, ffi.sizeof("enum cd_e7 *"))
  end)

  it("enum constants usable as array sizes in cdef", function()
    ffi.cdef("enum { CD_E8_N = 6 }; struct cd_e8s { int a[CD_E8_N]; };")
    assert.equal(24, ffi.sizeof("struct cd_e8s"))
  end)
end)

describe("constant expressions", function()
  local cases = {
    { "1 + 2", 3 }, { "10 - 4 - 3", 3 }, { "6 * 7", 42 }, { "17 / 5", 3 },
    { "17 % 5", 2 }, { "2 + 3 * 4", 14 }, { "(2 + 3) * 4", 20 },
    { "1 << 4", 16 }, { "256 >> 4", 16 }, { "1 + 2 << 1", 6 },
    { "6 & 3", 2 }, { "6 | 3", 7 }, { "6 ^ 3", 5 }, { "1 | 2 & 3", 3 },
    { "~0 + 2", 1 }, { "-(-5)", 5 }, { "+5", 5 }, { "!0", 1 }, { "!5", 0 },
    { "3 && 0", 0 }, { "3 && 2", 1 }, { "0 || 3", 1 }, { "0 || 0", 0 },
    { "0 ? 4 : 9", 9 }, { "5 > 3 ? 7 : 8", 7 }, { "1 ? 2 ? 3 : 4 : 5", 3 },
    { "2 == 2", 1 }, { "2 != 2", 0 }, { "1 < 2", 1 }, { "2 <= 1", 0 },
    { "3 > 2", 1 }, { "3 >= 4", 0 }, { "2 == 2 == 1", 1 },
    { "0x1F", 31 }, { "0X1f", 31 }, { "017", 15 }, { "0b101", 5 }, { "0B11", 3 },
    { "10u", 10 }, { "10U", 10 }, { "10l", 10 }, { "10L", 10 }, { "10ul", 10 },
    { "10UL", 10 }, { "10lu", 10 }, { "10ll", 10 }, { "10LL", 10 },
    { "10ull", 10 }, { "10ULL", 10 }, { "10llu", 10 },
    { "'A'", 65 }, { "'\\n'", 10 }, { "'\\0'", 0 }, { "'\\x41'", 65 },
    { "'\\101'", 65 }, { "'\\\\'", 92 }, { "'\\''", 39 },
    { "sizeof(int)", 4 }, { "sizeof(double) * 2", 16 }, { "sizeof(int[10])", 40 },
    { "sizeof(char *)", 8 }, { "__alignof__(double)", 8 }, { "__alignof(short)", 2 },
    { "(char)300", 44 }, { "(unsigned char)-1", 255 }, { "(short)65537", 1 },
    { "(unsigned)-1 >> 31", 1 }, { "(long long)1 << 40 >> 38", 4 },
    { "1ULL << 40 >> 38", 4 }, { "0x100000000 >> 32", 1 },
    { "(-1 >> 28) + 2", 1 }, { "(0u - 1) >> 28", 15 }, { "-7 / 2 + 5", 2 },
    { "-7 % 3 + 5", 4 }, { "0xffffffff + 1 == 0", 1 }, { "-1 < 0u", 0 },
    { "-1 < 0", 1 },
  }
  for _, c in ipairs(cases) do
    it(("%s = %d"):format(c[1], c[2]), function()
      assert.equal(c[2], val(c[1]))
    end)
  end

  it("sizeof of a declared struct", function()
    ffi.cdef("struct cd_ce1 { int a[3]; char c; };")
    assert.equal(16, val("sizeof(struct cd_ce1)"))
  end)

  it("division by zero is an error", function()
    raises(function() ffi.typeof("char[1 / 0]") end, "invalid C type 'char[1 / 0]'")
    raises(function() ffi.cdef("enum { CD_DZ = 1 % 0 };") end, "cdef:1:")
  end)

  it("an undeclared identifier is an error naming it", function()
    raises(function() ffi.cdef("enum { CD_ERR_UNDEF = CD_NOPE + 1 };") end,
      "cdef:1:", "CD_NOPE")
  end)
end)

describe("static const and #define", function()
  it("static const integer constants", function()
    ffi.cdef("static const int CD_SC1 = 3 * 7; static const unsigned CD_SC2 = 0xff;")
    assert.equal(21, val("CD_SC1"))
    assert.equal(255, val("CD_SC2"))
  end)

  it("const int with an initializer at top level is a constant", function()
    ffi.cdef("static const long CD_SC3 = CD_SC1 + 1;")
    assert.equal(22, val("CD_SC3"))
  end)

  it("#define NAME <integer>", function()
    ffi.cdef("#define CD_DEF1 42\n")
    assert.equal(42, val("CD_DEF1"))
  end)

  it("#define referring to other constants", function()
    ffi.cdef [[
#define CD_DEF2 (CD_DEF1 + 1)
#define CD_DEF3 0x10u
#define CD_DEF4 -3
#define CD_DEF5 (1 << 4) | 1
    ]]
    assert.equal(43, val("CD_DEF2"))
    assert.equal(16, val("CD_DEF3"))
    assert.equal(7, val("CD_DEF4 + 10"))
    assert.equal(17, val("CD_DEF5"))
  end)

  it("#define lines mixed with declarations", function()
    ffi.cdef [[
      typedef int cd_before_def;
#define CD_DEF6 6
      struct cd_defs { int a[CD_DEF6]; };
      enum { CD_DEF_E = CD_DEF6 * 2 };
    ]]
    assert.equal(24, ffi.sizeof("struct cd_defs"))
    assert.equal(12, val("CD_DEF_E"))
  end)

  it("#define counts lines for later errors", function()
    raises(function() ffi.cdef("#define CD_DEF7 7\nint cd_def7x\nint y;") end,
      "cdef:3:")
  end)

  it("#define of a non-integer is an error", function()
    raises(function() ffi.cdef('#define CD_DEF_STR "hello"') end, "cdef:1:")
  end)

  it("other preprocessor directives are errors", function()
    raises(function() ffi.cdef("#include <stdio.h>") end, "cdef:1:")
    raises(function() ffi.cdef("int cd_pp1;\n#if 0\n#endif") end, "cdef:2:")
  end)
end)

describe("#pragma pack", function()
  it("pack(1)", function()
    ffi.cdef [[
#pragma pack(1)
      struct cd_pk1 { char c; int i; double d; };
#pragma pack()
    ]]
    assert.equal(13, ffi.sizeof("struct cd_pk1"))
    assert.equal(1, ffi.offsetof("struct cd_pk1", "i"))
    assert.equal(1, ffi.alignof("struct cd_pk1"))
  end)

  it("pack() restores the default", function()
    ffi.cdef [[
#pragma pack(1)
      struct cd_pk2a { char c; int i; };
#pragma pack()
      struct cd_pk2b { char c; int i; };
    ]]
    assert.equal(5, ffi.sizeof("struct cd_pk2a"))
    assert.equal(8, ffi.sizeof("struct cd_pk2b"))
  end)

  it("push and pop nest", function()
    ffi.cdef [[
#pragma pack(push, 4)
      struct cd_pk3a { char c; double d; };
#pragma pack(push, 2)
      struct cd_pk3b { char c; double d; };
#pragma pack(pop)
      struct cd_pk3c { char c; double d; };
#pragma pack(pop)
      struct cd_pk3d { char c; double d; };
    ]]
    assert.equal(12, ffi.sizeof("struct cd_pk3a"))
    assert.equal(10, ffi.sizeof("struct cd_pk3b"))
    assert.equal(12, ffi.sizeof("struct cd_pk3c"))
    assert.equal(16, ffi.sizeof("struct cd_pk3d"))
  end)

  it("pack larger than the natural alignment changes nothing", function()
    ffi.cdef [[
#pragma pack(push, 16)
      struct cd_pk4 { char c; int i; };
#pragma pack(pop)
    ]]
    assert.equal(8, ffi.sizeof("struct cd_pk4"))
  end)

  it("does not leak into the next cdef after pop", function()
    ffi.cdef("struct cd_pk5 { char c; int i; };")
    assert.equal(8, ffi.sizeof("struct cd_pk5"))
  end)
end)

describe("attributes and extensions", function()
  it("__attribute__((packed)) after the body", function()
    ffi.cdef("struct cd_at1 { char c; int i; } __attribute__((packed));")
    assert.equal(5, ffi.sizeof("struct cd_at1"))
    assert.equal(1, ffi.alignof("struct cd_at1"))
  end)

  it("__attribute__((__packed__)) before the tag", function()
    ffi.cdef("struct __attribute__((__packed__)) cd_at2 { char c; short s; };")
    assert.equal(3, ffi.sizeof("struct cd_at2"))
  end)

  it("__attribute__((aligned(N))) on a struct", function()
    ffi.cdef("struct __attribute__((aligned(8))) cd_at3 { char c; };")
    assert.equal(8, ffi.sizeof("struct cd_at3"))
    assert.equal(8, ffi.alignof("struct cd_at3"))
  end)

  it("__attribute__((aligned(N))) on a member", function()
    ffi.cdef("struct cd_at4 { char c; int i __attribute__((aligned(16))); };")
    assert.equal(16, ffi.offsetof("struct cd_at4", "i"))
    assert.equal(32, ffi.sizeof("struct cd_at4"))
    assert.equal(16, ffi.alignof("struct cd_at4"))
  end)

  it("__declspec(align(N))", function()
    ffi.cdef("typedef struct __declspec(align(16)) cd_at5 { int x; } cd_at5_t;")
    assert.equal(16, ffi.alignof("cd_at5_t"))
    assert.equal(16, ffi.sizeof("cd_at5_t"))
  end)

  it("several attributes in one list", function()
    ffi.cdef("struct __attribute__((packed, aligned(4))) cd_at6 { char c; int i; };")
    assert.equal(1, ffi.offsetof("struct cd_at6", "i"))
    assert.equal(8, ffi.sizeof("struct cd_at6"))
    assert.equal(4, ffi.alignof("struct cd_at6"))
  end)

  it("mode(QI/HI/SI/DI) picks the integer size", function()
    ffi.cdef [[
      typedef int cd_qi __attribute__((mode(QI)));
      typedef int cd_hi __attribute__((mode(HI)));
      typedef unsigned cd_si __attribute__((mode(SI)));
      typedef int cd_di __attribute__((__mode__(__DI__)));
    ]]
    assert.equal(1, ffi.sizeof("cd_qi"))
    assert.equal(2, ffi.sizeof("cd_hi"))
    assert.equal(4, ffi.sizeof("cd_si"))
    assert.equal(8, ffi.sizeof("cd_di"))
  end)

  it("vector_size makes a vector type", function()
    ffi.cdef("typedef float cd_v4sf __attribute__((vector_size(16)));")
    assert.equal(16, ffi.sizeof("cd_v4sf"))
    assert.equal(16, ffi.alignof("cd_v4sf"))
  end)

  it("other GCC attributes are ignored", function()
    ffi.cdef [[
      int cd_attr_fn(int) __attribute__((deprecated, nonnull(1)));
      void cd_noret(void) __attribute__((noreturn));
      struct cd_at7 { int x; } __attribute__((may_alias, visibility("default")));
      __attribute__((visibility("hidden"))) int cd_attr_fn2(void);
    ]]
    assert.equal(4, ffi.sizeof("struct cd_at7"))
  end)

  it("calling convention keywords are accepted and ignored", function()
    ffi.cdef [[
      int __cdecl cd_cc1(int);
      int __stdcall cd_cc2(int);
      int __fastcall cd_cc3(int);
      typedef int (__stdcall *cd_stdfp)(int);
      typedef int (__attribute__((cdecl)) *cd_cdeclfp)(int);
      typedef int (__thiscall *cd_thisfp)(int);
    ]]
    assert.equal(T("int (*)(int)"), T("cd_stdfp"))
    assert.equal(T("int (*)(int)"), T("cd_cdeclfp"))
    assert.equal(T("int (*)(int)"), T("cd_thisfp"))
  end)

  it("__ptr32 and __ptr64 are accepted", function()
    ffi.cdef("typedef int * __ptr64 cd_p64;")
    assert.equal(8, ffi.sizeof("cd_p64"))
  end)

  it("__extension__", function()
    ffi.cdef("__extension__ typedef long long cd_ext_t;")
    assert.equal(T("int64_t"), T("cd_ext_t"))
  end)

  it("__asm__ symbol redirection is accepted", function()
    ffi.cdef [[
      int cd_asm1(int) __asm__("abs");
      int cd_asm2(int) __asm("labs");
      extern int cd_asm_var __asm__("cd_real_var");
    ]]
  end)

  it("inline function bodies are skipped", function()
    ffi.cdef [[
      static inline int cd_inl(int x) { if (x) { return x * 2; } return 0; }
      __inline__ int cd_inl2(void) { return 1; }
      typedef int cd_after_inline;
    ]]
    assert.equal(T("int"), T("cd_after_inline"))
  end)

  it("extern variables", function()
    ffi.cdef("extern int cd_ext_var; extern const char *cd_ext_str; int cd_plain_var;")
  end)
end)

describe("$ parameters", function()
  it("a ctype for a type", function()
    assert.equal(T("int *"), T("$ *", T("int")))
  end)

  it("a cdata stands for its type", function()
    assert.equal(T("double *"), T("$ *", ffi.new("double")))
  end)

  it("a number for an array size", function()
    assert.equal(24, ffi.sizeof(T("$[$]", T("double"), 3)))
  end)

  it("the issue's example: struct { $ a[$]; }", function()
    local S = T("struct { $ a[$]; }", T("int"), 4)
    assert.equal(16, ffi.sizeof(S))
  end)

  it("in ffi.cdef", function()
    ffi.cdef("typedef $ cd_handle_t;", T("void *"))
    assert.equal(T("void *"), T("cd_handle_t"))
  end)

  it("a string for a declared name", function()
    ffi.cdef("typedef int $;", "cd_dollar_t")
    assert.equal(T("int"), T("cd_dollar_t"))
  end)

  it("a string for a field name", function()
    local S = T("struct { int pad; int $; }", "cd_fld")
    assert.equal(4, ffi.offsetof(S, "cd_fld"))
  end)

  it("a struct ctype as element type", function()
    local S = T("struct { int x; }")
    local A = T("$[2]", S)
    assert.equal(8, ffi.sizeof(A))
    assert.is_true(ffi.istype(S, ffi.new(A)[1]))
  end)

  it("parameters are used in order", function()
    local A = T("$[$][$]", T("short"), 2, 5)
    assert.equal(20, ffi.sizeof(A))
  end)

  it("too few parameters is an error", function()
    raises(function() T("$ *") end, "invalid C type '$ *'")
  end)

  it("a number where a type is expected is an error", function()
    raises(function() T("$ *", 42) end, "invalid C type '$ *'")
  end)

  it("a table is not a parameter", function()
    raises(function() ffi.cdef("typedef $ cd_bad_param;", {}) end,
      "bad argument #2 to 'cdef'")
  end)
end)

describe("parse errors", function()
  it("report the line and token: the CONVENTIONS example", function()
    raises(function() ffi.cdef("int cd_pe1;\nint cd_pe2\nint cd_pe3;") end,
      "cdef:3: ';' expected near 'int'")
  end)

  it("end of input is '<eof>'", function()
    raises(function() ffi.cdef("int cd_pe4") end, "cdef:1:", "near '<eof>'")
  end)

  it("an unclosed struct", function()
    raises(function() ffi.cdef("struct cd_pe5 {\n  int a;\n") end, "cdef:", "'<eof>'")
  end)

  it("a missing ';' inside a struct body", function()
    raises(function() ffi.cdef("struct cd_pe6 {\n  int a;\n  int b\n};") end,
      "cdef:4:", "near '}'")
  end)

  it("an unknown type name is named", function()
    raises(function() ffi.cdef("typedef int cd_pe7;\n\n\ncd_nosuch_t x;") end,
      "cdef:4:", "cd_nosuch_t")
  end)

  it("a stray character", function()
    raises(function() ffi.cdef("int cd_pe8 @;") end, "cdef:1:", "'@'")
  end)

  it("an unclosed parameter list", function()
    raises(function() ffi.cdef("int cd_pe9(int;") end, "cdef:1:", "near ';'")
  end)

  it("a missing enum value", function()
    raises(function() ffi.cdef("enum cd_pe10 { CD_PE10_A = };") end, "cdef:1:", "near '}'")
  end)

  it("counts lines through block comments", function()
    raises(function() ffi.cdef("/* one\n two\n three */ int 5;") end, "cdef:3:")
  end)

  it("counts lines after // comments", function()
    raises(function() ffi.cdef("// comment\nint cd_pe11 cd_pe12;") end, "cdef:2:")
  end)

  it("counts CRLF line ends once", function()
    raises(function() ffi.cdef("int cd_pe13;\r\nint cd_pe14\r\nint cd_pe15;") end,
      "cdef:3:")
  end)

  it("a negative array size", function()
    raises(function() ffi.cdef("struct cd_pe16 { int a[-1]; };") end, "cdef:1:")
  end)

  it("a bitfield wider than its type", function()
    raises(function() ffi.cdef("struct cd_pe17 { int a : 33; };") end, "cdef:1:")
  end)

  it("a bitfield of a non-integer type", function()
    raises(function() ffi.cdef("struct cd_pe18 { double d : 3; };") end, "cdef:1:")
  end)

  it("a duplicate member", function()
    raises(function() ffi.cdef("struct cd_pe19 { int a; int a; };") end, "cdef:1:")
  end)

  it("a member of incomplete type", function()
    raises(function() ffi.cdef("struct cd_pe20 { struct cd_pe_never x; };") end, "cdef:1:")
  end)

  it("an array of void", function()
    raises(function() ffi.cdef("typedef void cd_pe21[3];") end, "cdef:1:")
  end)

  it("a function returning an array", function()
    raises(function() ffi.cdef("int cd_pe22(void)[3];") end, "cdef:1:")
  end)

  it("a missing type specifier", function()
    raises(function() ffi.cdef("cd_pe23;") end, "cdef:1:")
  end)

  it("cdef without a string", function()
    raises(function() ffi.cdef() end, "bad argument #1 to 'cdef'")
  end)

  it("type strings: invalid C type 'STR': MSG", function()
    raises(function() T("cd_undeclared_t") end, "invalid C type 'cd_undeclared_t'")
    raises(function() T("int )") end, "invalid C type 'int )'")
    raises(function() T("") end, "invalid C type ''")
    raises(function() T("int[") end, "invalid C type 'int['")
  end)

  it("a type string naming an object is an error", function()
    raises(function() T("int cd_named_obj") end, "invalid C type 'int cd_named_obj'")
  end)

  it("comments, blank lines and empty input are fine", function()
    ffi.cdef("")
    ffi.cdef("/* only */ // comments\n\n")
    ffi.cdef("\tint\tcd_ws1 ;\n\n  int cd_ws2;;")
  end)
end)

describe("redeclarations", function()
  it("an identical typedef is accepted", function()
    ffi.cdef("typedef int cd_rd1;")
    ffi.cdef("typedef int cd_rd1;")
    ffi.cdef("typedef int cd_rd1; typedef int cd_rd1;")
    assert.equal(T("int"), T("cd_rd1"))
  end)

  it("a typedef with another type is an error", function()
    ffi.cdef("typedef int cd_rd2;")
    raises(function() ffi.cdef("typedef long cd_rd2;") end, "cdef:1:", "cd_rd2")
    assert.equal(T("int"), T("cd_rd2"))
  end)

  it("an identical struct definition is accepted and keeps the type", function()
    ffi.cdef("struct cd_rd3 { int a; double b; };")
    local t = T("struct cd_rd3")
    ffi.cdef("struct cd_rd3 { int a; double b; };")
    assert.equal(t, T("struct cd_rd3"))
    assert.equal(16, ffi.sizeof("struct cd_rd3"))
  end)

  it("the same header twice (typedef struct, enum, function)", function()
    local hdr = [[
      typedef struct cd_tv { long tv_sec; long tv_usec; } cd_tv_t;
      enum cd_mode { CD_MODE_A, CD_MODE_B = 4 };
      enum { CD_ANON_K = 9 };
      int cd_gettime(cd_tv_t *tv, void *tz);
      extern int cd_counter;
      static const int CD_HDR_MAX = 64;
#define CD_HDR_DEF 3
    ]]
    ffi.cdef(hdr)
    ffi.cdef(hdr)
    assert.equal(16, ffi.sizeof("cd_tv_t"))
    assert.equal(9, val("CD_ANON_K"))
  end)

  it("a struct with other members is an error", function()
    ffi.cdef("struct cd_rd4 { int a; };")
    raises(function() ffi.cdef("struct cd_rd4 { double a; };") end, "cdef:1:", "cd_rd4")
    assert.equal(4, ffi.sizeof("struct cd_rd4"))
  end)

  it("a union redefining a struct tag is an error", function()
    ffi.cdef("struct cd_rd5 { int a; };")
    raises(function() ffi.cdef("union cd_rd5 { int a; };") end, "cdef:1:", "cd_rd5")
  end)

  it("a forward declaration after the definition is harmless", function()
    ffi.cdef("struct cd_rd6 { int a, b; }; struct cd_rd6;")
    assert.equal(8, ffi.sizeof("struct cd_rd6"))
  end)

  it("a function with another signature is an error", function()
    ffi.cdef("int cd_rd7(int);")
    ffi.cdef("int cd_rd7(int);")
    raises(function() ffi.cdef("int cd_rd7(double);") end, "cdef:1:", "cd_rd7")
  end)

  it("a variable with another type is an error", function()
    ffi.cdef("extern int cd_rd8;")
    raises(function() ffi.cdef("extern double cd_rd8;") end, "cdef:1:", "cd_rd8")
  end)

  it("an enum constant with another value is an error", function()
    ffi.cdef("enum { CD_RD9 = 1 };")
    raises(function() ffi.cdef("enum { CD_RD9 = 2 };") end, "cdef:1:", "CD_RD9")
    assert.equal(1, val("CD_RD9"))
  end)

  it("a #define with another value is an error", function()
    ffi.cdef("#define CD_RD10 5")
    ffi.cdef("#define CD_RD10 5")
    raises(function() ffi.cdef("#define CD_RD10 6") end, "cdef:1:", "CD_RD10")
  end)

  it("a name reused for another kind of declaration is an error", function()
    ffi.cdef("typedef int cd_rd11;")
    raises(function() ffi.cdef("int cd_rd11(int);") end, "cdef:1:", "cd_rd11")
    raises(function() ffi.cdef("enum { cd_rd11 = 1 };") end, "cdef:1:", "cd_rd11")
  end)
end)

describe("a failed cdef is rolled back whole", function()
  it("typedefs and structs declared before the error disappear", function()
    raises(function()
      ffi.cdef("typedef int cd_rb1;\nstruct cd_rb2 { int a; };\nint cd_rb3 oops;")
    end, "cdef:3:")
    raises(function() T("cd_rb1") end, "invalid C type 'cd_rb1'")
    assert.is_nil(ffi.sizeof("struct cd_rb2"))
  end)

  it("the rolled-back names can be declared afresh", function()
    ffi.cdef("typedef double cd_rb1; struct cd_rb2 { double x, y; };")
    assert.equal(T("double"), T("cd_rb1"))
    assert.equal(16, ffi.sizeof("struct cd_rb2"))
  end)

  it("completing a forward declaration is undone", function()
    ffi.cdef("struct cd_rb4;")
    raises(function() ffi.cdef("struct cd_rb4 { int a; }; int 5;") end, "cdef:1:")
    assert.is_nil(ffi.sizeof("struct cd_rb4"))
    ffi.cdef("struct cd_rb4 { char c[3]; };")
    assert.equal(3, ffi.sizeof("struct cd_rb4"))
  end)

  it("enum constants, static const and #define are undone", function()
    raises(function()
      ffi.cdef("enum { CD_RB5 = 1 };\nstatic const int CD_RB6 = 2;\n#define CD_RB7 3\nint 5;")
    end, "cdef:4:")
    raises(function() val("CD_RB5") end, "CD_RB5")
    raises(function() val("CD_RB6") end, "CD_RB6")
    raises(function() val("CD_RB7") end, "CD_RB7")
    ffi.cdef("enum { CD_RB5 = 10 }; static const int CD_RB6 = 20;\n#define CD_RB7 30\n")
    assert.equal(10, val("CD_RB5"))
    assert.equal(20, val("CD_RB6"))
    assert.equal(30, val("CD_RB7"))
  end)

  it("#pragma pack changed by a failed cdef is undone", function()
    raises(function() ffi.cdef("#pragma pack(push, 1)\nstruct cd_rb8 { char c; int i; };\nint 5;") end,
      "cdef:3:")
    ffi.cdef("struct cd_rb9 { char c; int i; };")
    assert.equal(8, ffi.sizeof("struct cd_rb9"))
  end)

  it("a conflicting redeclaration rolls back what came before it", function()
    ffi.cdef("typedef int cd_rb10;")
    raises(function() ffi.cdef("typedef int cd_rb11;\ntypedef char cd_rb10;") end,
      "cdef:2:", "cd_rb10")
    raises(function() T("cd_rb11") end, "invalid C type 'cd_rb11'")
  end)

  it("types referenced by a failed cdef stay usable", function()
    ffi.cdef("struct cd_rb12 { int a; };")
    raises(function() ffi.cdef("typedef struct cd_rb12 *cd_rb12p; int 5;") end, "cdef:1:")
    assert.equal(4, ffi.sizeof("struct cd_rb12"))
    assert.equal(8, ffi.sizeof("struct cd_rb12 *"))
    local p = ffi.new("struct cd_rb12[1]")
    p[0].a = 5
    assert.equal(5, p[0].a)
  end)
end)

describe("through ffi.C (needs library namespaces)", function()
  it("enum, static const and #define constants are readable", function()
    ffi.cdef("enum { CD_C_ENUM = 11 }; static const int CD_C_SC = 12;\n#define CD_C_DEF 13\n")
    assert.equal(11, ffi.C.CD_C_ENUM)
    assert.equal(12, ffi.C.CD_C_SC)
    assert.equal(13, ffi.C.CD_C_DEF)
  end)
end)
