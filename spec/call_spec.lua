-- Calling C functions: every argument and return type, varargs, errno,
-- function cdata, and the error messages of bad calls.
local ffi = require "cffi"
local support = require "support"

local LIBPATH = "./spec/lib/libcffitest.so"

ffi.cdef [[
typedef struct tl_point { int x, y; } tl_point;
typedef struct tl_vec2 { double x, y; } tl_vec2;
typedef struct tl_mixed { int i; float f; } tl_mixed;
typedef struct tl_mixed2 { double d; int64_t i; } tl_mixed2;
typedef struct tl_rgb { unsigned char r, g, b; } tl_rgb;
typedef struct tl_vec3f { float x, y, z; } tl_vec3f;
typedef struct tl_rect { tl_point a, b; } tl_rect;
typedef struct tl_big { int a[10]; double d; } tl_big;
typedef struct tl_quad { double a, b, c, d; } tl_quad;
typedef struct tl_chars { char c[5]; } tl_chars;
typedef union tl_intfloat { int i; float f; unsigned char b[4]; } tl_intfloat;
typedef union tl_du { double d; int64_t i; } tl_du;
typedef int (*tl_intfn)(int);
enum tl_color { TL_RED, TL_GREEN = 5, TL_BLUE };

void tl_noop(void);
int tl_add(int, int);
int tl_sub(int, int);
int tl_add1(int);
int tl_twice(int);
int tl_forty_two(void);

int8_t tl_i8_id(int8_t x);
uint8_t tl_u8_id(uint8_t x);
int16_t tl_i16_id(int16_t x);
uint16_t tl_u16_id(uint16_t x);
int32_t tl_i32_id(int32_t x);
uint32_t tl_u32_id(uint32_t x);
int64_t tl_i64_id(int64_t x);
uint64_t tl_u64_id(uint64_t x);
char tl_char_id(char x);
signed char tl_schar_id(signed char x);
unsigned char tl_uchar_id(unsigned char x);
short tl_short_id(short x);
unsigned short tl_ushort_id(unsigned short x);
long tl_long_id(long x);
unsigned long tl_ulong_id(unsigned long x);
long long tl_llong_id(long long x);
unsigned long long tl_ullong_id(unsigned long long x);
size_t tl_size_id(size_t x);
intptr_t tl_intptr_id(intptr_t x);
int8_t tl_i8_add(int8_t a, int8_t b);
uint8_t tl_u8_add(uint8_t a, uint8_t b);
int16_t tl_i16_add(int16_t a, int16_t b);
uint16_t tl_u16_add(uint16_t a, uint16_t b);
int32_t tl_i32_add(int32_t a, int32_t b);
uint32_t tl_u32_add(uint32_t a, uint32_t b);
int64_t tl_i64_add(int64_t a, int64_t b);
uint64_t tl_u64_add(uint64_t a, uint64_t b);
uint8_t tl_u8_trunc(uint32_t x);
int8_t tl_i8_trunc(uint32_t x);
uint16_t tl_u16_trunc(uint32_t x);
int16_t tl_i16_trunc(uint32_t x);
uint32_t tl_u32_trunc(uint64_t x);
int32_t tl_i32_trunc(uint64_t x);
int tl_i8_to_int(int8_t x);
int tl_u8_to_int(uint8_t x);
int64_t tl_i32_to_i64(int32_t x);
int64_t tl_u32_to_i64(uint32_t x);
uint64_t tl_u64_max(void);
uint64_t tl_u64_top(void);
int64_t tl_i64_min(void);
uint32_t tl_u32_max(void);
int8_t tl_i8_neg(void);

bool tl_not(bool b);
bool tl_is_positive(int x);
int tl_bool_to_int(bool b);
bool tl_and3(bool a, bool b, bool c);

float tl_fadd(float a, float b);
double tl_dadd(double a, double b);
float tl_fid(float x);
double tl_did(double x);
double tl_f_to_d(float x);
float tl_d_to_f(double x);
double tl_fd_mix(int a, float b, long c, double d);
long double tl_ldadd(long double a, long double b);
long double tl_ldid(long double x);
double tl_ld_to_d(long double x);
long double tl_d_to_ld(double x);
double tl_ld_precise(void);
int tl_ld_mix(int a, long double b, int c);

complex float tl_cfmul(complex float a, complex float b);
complex double tl_cdmul(complex double a, complex double b);
complex double tl_cdmake(double re, double im);
complex float tl_cfmake(float re, float im);
double tl_cdre(complex double z);
double tl_cdim(complex double z);
double tl_cfim(complex float z);
complex double tl_cdconj(complex double z);

int tl_sum_ints(const int *p, int n);
double tl_sum_doubles(const double *p, int n);
void tl_fill_ints(int *p, int n, int v);
int tl_sum4(int a[4]);
void tl_swap(int *a, int *b);
int *tl_ptr_offset(int *p, int n);
ptrdiff_t tl_ptr_diff(const int *a, const int *b);
void *tl_return_null(void);
int *tl_return_null_int(void);
int tl_is_null(const void *p);
const char *tl_hello(void);
const char *tl_str_or_null(int which);
void tl_int_out(int *out, int v);
void tl_double_out(double *out, double v);
uintptr_t tl_ptr_to_int(const void *p);
void **tl_ptrptr(void **pp);
size_t tl_strlen(const char *s);
size_t tl_strlen_nc(char *s);
int tl_ucsum(const unsigned char *s);
int tl_ucsum_nc(unsigned char *s);
int tl_scfirst(const signed char *s);
int tl_scfirst_nc(signed char *s);
size_t tl_voidlen(const void *p);
size_t tl_voidlen_nc(void *p);
int tl_memsum(const void *p, size_t n);
void tl_upper(char *buf);
int tl_strcmp(const char *a, const char *b);
int tl_prefix(char *buf, size_t n, const char *s);

int tl_color_value(enum tl_color c);
enum tl_color tl_next_color(enum tl_color c);

tl_point tl_point_make(int x, int y);
int tl_point_sum(tl_point p);
tl_point tl_point_add(tl_point a, tl_point b);
void tl_point_scale(tl_point *p, int k);
int tl_point_getx(const tl_point *p);
tl_point *tl_point_null(void);
tl_vec2 tl_vec2_make(double x, double y);
tl_vec2 tl_vec2_scale(tl_vec2 v, double s);
double tl_vec2_dot(tl_vec2 a, tl_vec2 b);
tl_mixed tl_mixed_make(int i, float f);
double tl_mixed_sum(tl_mixed m);
tl_mixed2 tl_mixed2_make(double d, int64_t i);
double tl_mixed2_sum(tl_mixed2 m);
tl_mixed2 tl_mixed2_swap(tl_mixed2 m);
tl_rgb tl_rgb_make(int r, int g, int b);
int tl_rgb_pack(tl_rgb c);
tl_rgb tl_rgb_invert(tl_rgb c);
tl_vec3f tl_vec3f_make(float x, float y, float z);
double tl_vec3f_sum(tl_vec3f v);
tl_rect tl_rect_make(int x0, int y0, int x1, int y1);
int tl_rect_area(tl_rect r);
tl_big tl_big_make(int seed);
double tl_big_sum(tl_big b);
double tl_big_after_ints(int a, int b, int c, int d, int e, int f, tl_big big);
tl_quad tl_quad_make(double a, double b, double c, double d);
double tl_quad_sum(tl_quad q);
tl_chars tl_chars_make(const char *s);
int tl_chars_len(tl_chars c);
tl_intfloat tl_if_from_int(int i);
tl_intfloat tl_if_from_float(float f);
int tl_if_get_int(tl_intfloat u);
double tl_if_get_float(tl_intfloat u);
tl_du tl_du_from_double(double d);
int64_t tl_du_get_int(tl_du u);
double tl_struct_mix(tl_point p, double s, tl_vec2 v, int k);

int tl_sum10i(int a, int b, int c, int d, int e, int f, int g, int h, int i, int j);
long long tl_sum12ll(long long a, long long b, long long c, long long d,
                     long long e, long long f, long long g, long long h,
                     long long i, long long j, long long k, long long l);
double tl_sum10d(double a, double b, double c, double d, double e,
                 double f, double g, double h, double i, double j);
float tl_sum10f(float a, float b, float c, float d, float e, float f,
                float g, float h, float i, float j);
double tl_mixed16(int a, double b, int c, double d, int e, double f,
                  int g, double h, int i, double j, int k, double l,
                  int m, double n, int o, double p);
double tl_widths(char a, short b, int c, long d, float e, double f,
                 unsigned char g, long long h, signed char i,
                 unsigned short j, unsigned int k, bool l);
int tl_ptrs8(const int *a, const int *b, const int *c, const int *d,
             const int *e, const int *f, const int *g, const int *h);

long long tl_vsum(int n, ...);
double tl_vsumd(int n, ...);
double tl_vmix(const char *spec, ...);
int tl_vformat(char *buf, size_t n, const char *fmt, ...);

int tl_set_errno(int e);
int tl_get_errno(void);

int tl_call_int(int (*f)(int), int x);
int tl_call_int2(int (*f)(int, int), int a, int b);
tl_intfn tl_get_add1(void);
tl_intfn tl_get_twice(void);
tl_intfn tl_get_null_fn(void);
int tl_is_add1(int (*f)(int));

extern int (*tl_global_fn)(int);
int tl_global_fn_call(int x);
void tl_reset_globals(void);

int snprintf(char *buf, size_t n, const char *fmt, ...);
int close(int fd);
size_t strlen(const char *s);
long strtol(const char *s, char **end, int base);
]]

ffi.cdef [[
typedef struct tl_vec2f { float x, y; } tl_vec2f;
typedef struct tl_onedouble { double d; } tl_onedouble;
typedef struct tl_onefloat { float f; } tl_onefloat;
typedef struct tl_onechar { char c; } tl_onechar;
typedef struct tl_ldstruct { long double v; int tag; } tl_ldstruct;
typedef struct tl_float4 { float v[4]; } tl_float4;
#pragma pack(push, 1)
typedef struct tl_packed { char c; int i; short s; } tl_packed;
#pragma pack(pop)
typedef struct tl_bits { unsigned a : 4, b : 4; int c; } tl_bits;
typedef struct tl_named { const char *name; int len; } tl_named;
typedef struct tl_ops { int (*op)(int, int); int bias; } tl_ops;
enum tl_bigenum { TL_BIG_LOW = 1, TL_BIG_HIGH = 0x80000000 };

tl_vec2f tl_vec2f_make(float x, float y);
double tl_vec2f_sum(tl_vec2f v);
tl_onedouble tl_onedouble_make(double d);
double tl_onedouble_get(tl_onedouble o);
tl_onefloat tl_onefloat_make(float f);
double tl_onefloat_get(tl_onefloat o);
tl_onechar tl_onechar_make(int c);
int tl_onechar_get(tl_onechar o);
tl_ldstruct tl_ldstruct_make(double v, int tag);
double tl_ldstruct_sum(tl_ldstruct s);
tl_float4 tl_float4_make(float a, float b, float c, float d);
double tl_float4_sum(tl_float4 f);
tl_packed tl_packed_make(int c, int i, int s);
int tl_packed_sum(tl_packed p);
int tl_packed_size(void);
tl_bits tl_bits_make(unsigned a, unsigned b, int c);
int tl_bits_sum(tl_bits x);
tl_named tl_named_make(int which);
tl_ops tl_ops_make(int bias);
int tl_ops_apply(tl_ops o, int a, int b);
int tl_point_after_ints(int a, int b, int c, int d, int e, int f, tl_point p, int g);
double tl_vec2_after_doubles(double a, double b, double c, double d, double e,
                             double f, double g, double h, tl_vec2 v, double i);
int tl_points4(tl_point a, tl_point b, tl_point c, tl_point d);
tl_point *tl_global_point_ptr(void);
void tl_strdup_out(const char *s, char **out);
void tl_free(void *p);
enum tl_bigenum tl_bigenum_high(void);
int tl_bigenum_is_high(enum tl_bigenum e);
long long tl_sum20ll(long long a1, long long a2, long long a3, long long a4,
                     long long a5, long long a6, long long a7, long long a8,
                     long long a9, long long a10, long long a11, long long a12,
                     long long a13, long long a14, long long a15, long long a16,
                     long long a17, long long a18, long long a19, long long a20);
double tl_vsumd_after8(double a, double b, double c, double d, double e,
                       double f, double g, double h, int n, ...);
]]

local lib = ffi.load(LIBPATH)
local C = ffi.C

local raises, run_lua = support.raises, support.run_lua

local PRELUDE = ([[
local ffi = require "cffi"
ffi.cdef [=[
#pragma pack(push, 1)
typedef struct tl_packed { char c; int i; short s; } tl_packed;
#pragma pack(pop)
tl_packed tl_packed_make(int c, int i, int s);
int tl_packed_sum(tl_packed p);
]=]
local lib = ffi.load(%q)
]]):format(LIBPATH)

-- A Lua number rounded to float precision.
local function f32(x)
  return (string.unpack("f", string.pack("f", x)))
end

describe("calls with no arguments and void", function()
  it("calls a function without arguments", function()
    assert.equal(42, lib.tl_forty_two())
  end)

  it("a void function returns nothing at all", function()
    assert.equal(0, select("#", lib.tl_noop()))
  end)

  it("calls int (int, int)", function()
    assert.equal(5, lib.tl_add(2, 3))
    assert.equal(-1, lib.tl_sub(2, 3))
  end)

  it("a function cached in a local keeps working", function()
    local add = lib.tl_add
    local s = 0
    for i = 1, 1000 do s = add(s, i) end
    assert.equal(500500, s)
  end)
end)

describe("integer arguments and results", function()
  it("int results are Lua integers", function()
    assert.equal("integer", math.type(lib.tl_add(1, 2)))
    assert.equal("integer", math.type(lib.tl_i64_id(1)))
    assert.equal("integer", math.type(lib.tl_u8_id(1)))
  end)

  it("int8_t wraps like C", function()
    assert.equal(127, lib.tl_i8_id(127))
    assert.equal(-128, lib.tl_i8_id(-128))
    assert.equal(-128, lib.tl_i8_id(128))
    assert.equal(44, lib.tl_i8_id(300))
    assert.equal(-126, lib.tl_i8_add(127, 3))
  end)

  it("uint8_t wraps like C", function()
    assert.equal(255, lib.tl_u8_id(255))
    assert.equal(0, lib.tl_u8_id(256))
    assert.equal(255, lib.tl_u8_id(-1))
    assert.equal(4, lib.tl_u8_add(250, 10))
  end)

  it("int16_t and uint16_t wrap like C", function()
    assert.equal(-32768, lib.tl_i16_id(-32768))
    assert.equal(-32768, lib.tl_i16_id(32768))
    assert.equal(65535, lib.tl_u16_id(65535))
    assert.equal(65535, lib.tl_u16_id(-1))
    assert.equal(-32767, lib.tl_i16_add(32767, 2))
    assert.equal(1, lib.tl_u16_add(65535, 2))
  end)

  it("int32_t and uint32_t wrap like C", function()
    assert.equal(2147483647, lib.tl_i32_id(2147483647))
    assert.equal(-2147483648, lib.tl_i32_id(-2147483648))
    assert.equal(-2147483648, lib.tl_i32_id(2147483648))
    assert.equal(4294967295, lib.tl_u32_id(4294967295))
    assert.equal(4294967295, lib.tl_u32_id(-1))
    assert.equal(-2147483648, lib.tl_i32_add(2147483647, 1))
    assert.equal(0, lib.tl_u32_add(4294967295, 1))
  end)

  it("int64_t keeps all 64 bits", function()
    assert.equal(math.maxinteger, lib.tl_i64_id(math.maxinteger))
    assert.equal(math.mininteger, lib.tl_i64_id(math.mininteger))
    assert.equal(math.mininteger, lib.tl_i64_min())
    assert.equal(math.mininteger, lib.tl_i64_add(math.maxinteger, 1))
    assert.equal(1 << 40, lib.tl_i64_id(1 << 40))
  end)

  it("uint64_t >= 2^63 keeps its bits (a negative integer)", function()
    assert.equal(-1, lib.tl_u64_max())
    assert.equal(math.mininteger, lib.tl_u64_top())
    assert.equal(-1, lib.tl_u64_id(-1))
    assert.is_true(math.ult(math.maxinteger, lib.tl_u64_top()))
    assert.equal(math.mininteger, lib.tl_u64_add(math.maxinteger, 1))
  end)

  it("the named integer types pass through", function()
    assert.equal(65, lib.tl_char_id(65))
    assert.equal(-3, lib.tl_schar_id(-3))
    assert.equal(253, lib.tl_uchar_id(-3))
    assert.equal(-300, lib.tl_short_id(-300))
    assert.equal(65000, lib.tl_ushort_id(65000))
    assert.equal(-(1 << 50), lib.tl_long_id(-(1 << 50)))
    assert.equal(1 << 50, lib.tl_ulong_id(1 << 50))
    assert.equal(-(1 << 60), lib.tl_llong_id(-(1 << 60)))
    assert.equal(1 << 60, lib.tl_ullong_id(1 << 60))
    assert.equal(123456789012, lib.tl_size_id(123456789012))
    assert.equal(-7, lib.tl_intptr_id(-7))
  end)

  it("narrow results are truncated by the caller", function()
    -- the callee leaves the upper register bits as they came in
    assert.equal(0x34, lib.tl_u8_trunc(0x1234))
    assert.equal(-1, lib.tl_i8_trunc(0x12ff))
    assert.equal(0x5678, lib.tl_u16_trunc(0x12345678))
    assert.equal(-1, lib.tl_i16_trunc(0x1234ffff))
    assert.equal(0x34567890, lib.tl_u32_trunc(0x1234567890))
    assert.equal(-1, lib.tl_i32_trunc(0x1ffffffff))
  end)

  it("narrow arguments are sign or zero extended", function()
    assert.equal(-1, lib.tl_i8_to_int(-1))
    assert.equal(255, lib.tl_u8_to_int(255))
    assert.equal(255, lib.tl_u8_to_int(-1))
    assert.equal(-1, lib.tl_i32_to_i64(-1))
    assert.equal(4294967295, lib.tl_u32_to_i64(4294967295))
    assert.equal(4294967295, lib.tl_u32_to_i64(-1))
  end)

  it("other small results", function()
    assert.equal(4294967295, lib.tl_u32_max())
    assert.equal(-5, lib.tl_i8_neg())
  end)

  it("a float argument to an integer parameter truncates toward zero", function()
    assert.equal(2, lib.tl_i32_id(2.9))
    assert.equal(-2, lib.tl_i32_id(-2.9))
    assert.equal(3, lib.tl_i64_id(3.0))
  end)

  it("cdata numbers convert to integer parameters", function()
    assert.equal(5, lib.tl_i32_id(ffi.new("int64_t", 5)))
    assert.equal(200, lib.tl_i64_id(ffi.new("uint8_t", 200)))
    assert.equal(-2, lib.tl_i32_id(ffi.new("double", -2.5)))
    assert.equal(7, lib.tl_add(ffi.new("short", 3), ffi.new("long", 4)))
  end)

  it("enum parameters take integers and constant names", function()
    assert.equal(60, lib.tl_color_value("TL_BLUE"))
    assert.equal(50, lib.tl_color_value(5))
    assert.equal(0, lib.tl_color_value("TL_RED"))
  end)

  it("enum results are Lua integers", function()
    local r = lib.tl_next_color("TL_RED")
    assert.equal("integer", math.type(r))
    assert.equal(5, r)
    assert.equal(6, lib.tl_next_color(5))
  end)

  it("an enum with unsigned constants", function()
    assert.equal(0x80000000, lib.tl_bigenum_high())
    assert.equal(1, lib.tl_bigenum_is_high("TL_BIG_HIGH"))
    assert.equal(1, lib.tl_bigenum_is_high(0x80000000))
  end)

  it("an unknown enum constant name is an error", function()
    raises(function() lib.tl_color_value("TL_PURPLE") end,
      "bad argument #1 to 'tl_color_value'")
  end)
end)

describe("bool arguments and results", function()
  it("bool results are Lua booleans", function()
    assert.equal(false, lib.tl_not(true))
    assert.equal(true, lib.tl_not(false))
    assert.equal(true, lib.tl_is_positive(5))
    assert.equal(false, lib.tl_is_positive(-5))
  end)

  it("booleans convert to bool parameters", function()
    assert.equal(1, lib.tl_bool_to_int(true))
    assert.equal(0, lib.tl_bool_to_int(false))
  end)

  it("numbers convert to bool parameters (zero is false)", function()
    assert.equal(0, lib.tl_bool_to_int(0))
    assert.equal(1, lib.tl_bool_to_int(2))
  end)

  it("three bool parameters", function()
    assert.equal(true, lib.tl_and3(true, true, true))
    assert.equal(false, lib.tl_and3(true, false, true))
    assert.equal(false, lib.tl_and3(true, true, false))
  end)
end)

describe("floating point arguments and results", function()
  it("float arguments and result", function()
    assert.equal(3.75, lib.tl_fadd(1.5, 2.25))
    assert.equal("float", math.type(lib.tl_fadd(1, 2)))
  end)

  it("float rounds to single precision", function()
    assert.equal(f32(0.1), lib.tl_fid(0.1))
    assert.equal(f32(1 / 3), lib.tl_d_to_f(1 / 3))
    assert.equal(0.5, lib.tl_f_to_d(0.5))
  end)

  it("double arguments and result", function()
    assert.equal(0.1 + 0.2, lib.tl_dadd(0.1, 0.2))
    assert.equal("float", math.type(lib.tl_dadd(1, 2)))
    assert.equal(3.0, lib.tl_dadd(1, 2))
  end)

  it("special double values pass through", function()
    assert.equal(math.huge, lib.tl_did(math.huge))
    assert.equal(-math.huge, lib.tl_did(-math.huge))
    local nan = lib.tl_did(0 / 0)
    assert.is_true(nan ~= nan)
    assert.equal(-math.huge, 1 / lib.tl_did(-0.0))
  end)

  it("integers and floats interleaved", function()
    assert.equal(1 + 5 + 9 + 17, lib.tl_fd_mix(1, 2.5, 3, 4.25))
  end)

  it("long double arguments and result (through double)", function()
    assert.equal(3.75, lib.tl_ldadd(1.5, 2.25))
    assert.equal(0.1, lib.tl_ldid(0.1))
    assert.equal(0.5, lib.tl_ld_to_d(0.5))
    assert.equal(0.25, lib.tl_d_to_ld(0.25))
    assert.equal("float", math.type(lib.tl_ldid(1)))
  end)

  it("long double is really extended inside C", function()
    assert.equal(1, lib.tl_ld_precise())
  end)

  it("long double between integer arguments", function()
    assert.equal(321, lib.tl_ld_mix(1, 2.0, 3))
  end)
end)

describe("complex arguments and results", function()
  it("complex double result has re and im", function()
    local z = lib.tl_cdmake(1, 2)
    assert.equal(1, z.re)
    assert.equal(2, z.im)
  end)

  it("complex float result has re and im", function()
    local z = lib.tl_cfmake(1.5, -2)
    assert.equal(1.5, z.re)
    assert.equal(-2, z.im)
  end)

  it("complex double arguments", function()
    local z = lib.tl_cdmul(ffi.new("complex double", 1, 2),
                           ffi.new("complex double", 3, 4))
    assert.equal(-5, z.re)
    assert.equal(10, z.im)
    assert.equal(7, lib.tl_cdre(ffi.new("complex double", 7, 8)))
    assert.equal(8, lib.tl_cdim(ffi.new("complex double", 7, 8)))
  end)

  it("complex float arguments", function()
    local z = lib.tl_cfmul(ffi.new("complex float", 1, 2),
                           ffi.new("complex float", 3, 4))
    assert.equal(-5, z.re)
    assert.equal(10, z.im)
    assert.equal(2.5, lib.tl_cfim(ffi.new("complex float", 1, 2.5)))
  end)

  it("a complex result can be passed back", function()
    local z = lib.tl_cdconj(lib.tl_cdmake(3, 4))
    assert.equal(3, z.re)
    assert.equal(-4, z.im)
  end)

  it("a Lua number converts to a complex parameter", function()
    assert.equal(3, lib.tl_cdre(3))
    assert.equal(0, lib.tl_cdim(3))
  end)
end)

describe("pointer and array arguments", function()
  it("an array decays to a pointer", function()
    local a = ffi.new("int[5]", 1, 2, 3, 4, 5)
    assert.equal(15, lib.tl_sum_ints(a, 5))
  end)

  it("a VLA decays to a pointer", function()
    local a = ffi.new("double[?]", 3, 0.5)
    assert.equal(1.5, lib.tl_sum_doubles(a, 3))
  end)

  it("a pointer into an array", function()
    local a = ffi.new("int[5]", 1, 2, 3, 4, 5)
    assert.equal(12, lib.tl_sum_ints(a + 2, 3))
  end)

  it("C writes through a pointer into cdata memory", function()
    local a = ffi.new("int[5]")
    lib.tl_fill_ints(a, 5, 10)
    for i = 0, 4 do assert.equal(10 + i, a[i]) end
  end)

  it("an array parameter T[N] is a pointer parameter", function()
    assert.equal(30, lib.tl_sum4(ffi.new("int[4]", 1, 2, 3, 4)))
  end)

  it("two pointer arguments", function()
    local a, b = ffi.new("int[1]", 1), ffi.new("int[1]", 2)
    lib.tl_swap(a, b)
    assert.equal(2, a[0])
    assert.equal(1, b[0])
  end)

  it("out parameters", function()
    local i = ffi.new("int[1]")
    local d = ffi.new("double[1]")
    lib.tl_int_out(i, 7)
    lib.tl_double_out(d, 2.5)
    assert.equal(7, i[0])
    assert.equal(2.5, d[0])
  end)

  it("void * converts to other pointer types", function()
    local a = ffi.new("int[2]", 1, 2)
    assert.equal(3, lib.tl_sum_ints(ffi.cast("void *", a), 2))
  end)

  it("a pointer result is a cdata of the declared type", function()
    local a = ffi.new("int[5]", 1, 2, 3, 4, 5)
    local p = lib.tl_ptr_offset(a, 2)
    assert.is_true(ffi.istype("int *", p))
    assert.equal(3, p[0])
    assert.equal(5, p[2])
  end)

  it("ptrdiff_t result", function()
    local a = ffi.new("int[5]")
    assert.equal(3, lib.tl_ptr_diff(a + 3, a))
    assert.equal(-3, lib.tl_ptr_diff(a, a + 3))
  end)

  it("void * takes any pointer", function()
    local a = ffi.new("double[2]")
    assert.equal(0, lib.tl_is_null(a))
    assert.equal(0, lib.tl_is_null(ffi.new("int[1]")))
    assert.equal(8, lib.tl_ptr_to_int(a + 1) - lib.tl_ptr_to_int(a))
  end)

  it("void ** round trip", function()
    local pp = ffi.new("void *[1]")
    local r = lib.tl_ptrptr(pp)
    assert.equal(lib.tl_ptr_to_int(pp), lib.tl_ptr_to_int(r))
  end)

  it("nil is NULL", function()
    assert.equal(1, lib.tl_is_null(nil))
    assert.equal(-1, lib.tl_point_getx(nil))
  end)

  it("NULL cdata is NULL", function()
    assert.equal(1, lib.tl_is_null(ffi.cast("void *", 0)))
    assert.equal(1, lib.tl_is_null(ffi.new("int *")))
  end)

  it("ffi.nullptr is NULL", function()
    assert.equal(1, lib.tl_is_null(ffi.nullptr))
  end)

  it("a NULL pointer result is nil", function()
    assert.is_nil(lib.tl_return_null())
    assert.is_nil(lib.tl_return_null_int())
    assert.is_nil(lib.tl_point_null())
    assert.is_nil(lib.tl_str_or_null(0))
  end)

  it("a char ** out parameter", function()
    local out = ffi.new("char *[1]")
    lib.tl_strdup_out("copied", out)
    assert.equal("copied", ffi.string(out[0]))
    lib.tl_free(out[0])
  end)

  it("a non-NULL char pointer result is a cdata", function()
    local s = lib.tl_hello()
    assert.is_true(ffi.istype("const char *", s))
    assert.equal("hello", ffi.string(s))
    assert.equal("yes", ffi.string(lib.tl_str_or_null(1)))
  end)
end)

describe("Lua strings as pointer arguments", function()
  it("to const char *", function()
    assert.equal(5, lib.tl_strlen("hello"))
    assert.equal(0, lib.tl_strlen(""))
  end)

  it("to char * (not const)", function()
    assert.equal(5, lib.tl_strlen_nc("hello"))
  end)

  it("to const unsigned char * and unsigned char *", function()
    assert.equal(65 + 66, lib.tl_ucsum("AB"))
    assert.equal(65 + 66, lib.tl_ucsum_nc("AB"))
    assert.equal(255, lib.tl_ucsum("\255"))
  end)

  it("to const signed char * and signed char *", function()
    assert.equal(-1, lib.tl_scfirst("\255"))
    assert.equal(-1, lib.tl_scfirst_nc("\255"))
    assert.equal(65, lib.tl_scfirst("A"))
  end)

  it("to const void * and void *", function()
    assert.equal(3, lib.tl_voidlen("abc"))
    assert.equal(3, lib.tl_voidlen_nc("abc"))
  end)

  it("passes the bytes including embedded zeros", function()
    assert.equal(97 + 98, lib.tl_memsum("a\0b", 3))
  end)

  it("a string is NUL-terminated", function()
    assert.equal(3, lib.tl_strlen(("abcdef"):sub(1, 3)))
  end)

  it("a long string", function()
    assert.equal(100000, lib.tl_strlen(("x"):rep(100000)))
  end)

  it("two string arguments", function()
    assert.equal(-1, lib.tl_strcmp("a", "b"))
    assert.equal(0, lib.tl_strcmp("same", "same"))
    assert.equal(1, lib.tl_strcmp("b", "a"))
  end)

  it("nil to a const char * parameter is NULL", function()
    assert.equal(-1, lib.tl_strlen(nil))
  end)

  it("a char buffer C writes into", function()
    local buf = ffi.new("char[32]", "hello")
    lib.tl_upper(buf)
    assert.equal("HELLO", ffi.string(buf))
    assert.equal(4, lib.tl_prefix(buf, 32, "x"))
    assert.equal("tl:x", ffi.string(buf))
  end)

  it("a Lua string is not modified by the call", function()
    local s = "abc"
    assert.equal(3, lib.tl_strlen_nc(s))
    assert.equal("abc", s)
  end)
end)

describe("structs and unions by value", function()
  it("small int struct result", function()
    local p = lib.tl_point_make(3, 4)
    assert.is_true(ffi.istype("tl_point", p))
    assert.equal(3, p.x)
    assert.equal(4, p.y)
  end)

  it("small int struct argument", function()
    assert.equal(21, lib.tl_point_sum(ffi.new("tl_point", 1, 2)))
  end)

  it("a table converts to a struct argument", function()
    assert.equal(21, lib.tl_point_sum({ 1, 2 }))
    assert.equal(21, lib.tl_point_sum({ x = 1, y = 2 }))
  end)

  it("struct in, struct out", function()
    local r = lib.tl_point_add(lib.tl_point_make(1, 2), ffi.new("tl_point", 10, 20))
    assert.equal(11, r.x)
    assert.equal(22, r.y)
  end)

  it("struct results are independent copies", function()
    local p1 = lib.tl_point_make(1, 2)
    local p2 = lib.tl_point_make(3, 4)
    p2.x = 99
    assert.equal(1, p1.x)
    assert.equal(99, p2.x)
  end)

  it("a struct cdata passed to a pointer parameter passes its address", function()
    local p = ffi.new("tl_point", 2, 3)
    lib.tl_point_scale(p, 3)
    assert.equal(6, p.x)
    assert.equal(9, p.y)
    assert.equal(6, lib.tl_point_getx(p))
  end)

  it("an array of structs to a pointer parameter", function()
    local a = ffi.new("tl_point[2]", { { 5, 6 }, { 7, 8 } })
    assert.equal(5, lib.tl_point_getx(a))
    assert.equal(7, lib.tl_point_getx(a + 1))
  end)

  -- The plain cases take a shortcut past cconv (same pointer type, a
  -- record or array of the pointee); everything else goes through it.
  it("a pointer cdata of the parameter's own type passes its value", function()
    local p = ffi.new("tl_point", 4, 5)
    local pp = ffi.cast("tl_point *", p)
    lib.tl_point_scale(pp, 2)
    assert.equal(8, p.x)
    assert.equal(-1, lib.tl_point_getx(ffi.new("const tl_point *")))
    assert.equal(-1, lib.tl_point_getx(ffi.cast("tl_point *", nil)))
  end)

  it("a struct field reference to a pointer parameter passes its address", function()
    local r = ffi.new("tl_rect", { { 1, 2 }, { 3, 4 } })
    lib.tl_point_scale(r.b, 10)
    assert.equal(30, r.b.x)
    assert.equal(40, r.b.y)
    assert.equal(1, r.a.x)
  end)

  it("a struct of another type to a pointer parameter is an error", function()
    raises(function() lib.tl_point_getx(ffi.new("tl_vec2")) end,
      "bad argument #1 to 'tl_point_getx' (cannot convert 'cdata<struct tl_vec2>' to 'const struct tl_point *')")
    raises(function() lib.tl_point_getx(ffi.new("int[2]")) end,
      "bad argument #1 to 'tl_point_getx' (cannot convert 'cdata<int[2]>' to 'const struct tl_point *')")
  end)

  it("const objects do not pass to a non-const pointer parameter", function()
    local c = ffi.new("struct { const tl_point p; }", { { 1, 2 } })
    assert.equal(1, lib.tl_point_getx(c.p))
    raises(function() lib.tl_point_scale(c.p, 2) end,
      "bad argument #1 to 'tl_point_scale' (cannot convert 'cdata<struct tl_point>' to 'struct tl_point *')")
    raises(function() lib.tl_point_scale(ffi.new("const tl_point[1]"), 2) end,
      "bad argument #1 to 'tl_point_scale' (cannot convert 'cdata<const struct tl_point[1]>' to 'struct tl_point *')")
    raises(function() lib.tl_point_scale(ffi.new("const tl_point *"), 2) end,
      "bad argument #1 to 'tl_point_scale' (cannot convert 'cdata<const struct tl_point *>' to 'struct tl_point *')")
    assert.equal(1, c.p.x)
  end)

  it("struct in, struct out, in registers both ways", function()
    local v = lib.tl_vec2_scale(ffi.new("tl_vec2", 1.5, -2), 3)
    assert.equal(4.5, v.x)
    assert.equal(-6, v.y)
    local p = lib.tl_point_add(ffi.new("tl_point", 1, 2), ffi.new("tl_point", 30, 40))
    assert.equal(31, p.x)
    assert.equal(42, p.y)
    -- the result is a new object, not a view of the argument
    local a = ffi.new("tl_vec2", 1, 1)
    local b = lib.tl_vec2_scale(a, 1)
    b.x = 5
    assert.equal(1, a.x)
  end)

  it("struct arguments from tables and field references", function()
    assert.equal(11, lib.tl_vec2_dot({ 1, 2 }, { x = 3, y = 4 }))
    local r = ffi.new("tl_rect", { { 1, 2 }, { 3, 4 } })
    assert.equal(43, lib.tl_point_sum(r.b))
    raises(function() lib.tl_vec2_dot({ 1, 2 }, "x") end,
      "bad argument #2 to 'tl_vec2_dot' (cannot convert 'string' to 'struct tl_vec2')")
  end)

  it("two doubles (vector registers)", function()
    local v = lib.tl_vec2_make(1.5, 2.5)
    assert.equal(1.5, v.x)
    assert.equal(2.5, v.y)
    local s = lib.tl_vec2_scale(ffi.new("tl_vec2", 1, 2), 3)
    assert.equal(3, s.x)
    assert.equal(6, s.y)
    assert.equal(11, lib.tl_vec2_dot(ffi.new("tl_vec2", 1, 2), ffi.new("tl_vec2", 3, 4)))
  end)

  it("int and float in one eightbyte", function()
    local m = lib.tl_mixed_make(3, 1.5)
    assert.equal(3, m.i)
    assert.equal(1.5, m.f)
    assert.equal(7, lib.tl_mixed_sum(ffi.new("tl_mixed", 2, 0.5)))
  end)

  it("double and int64 (one vector and one integer register)", function()
    local m = lib.tl_mixed2_make(2.5, 7)
    assert.equal(2.5, m.d)
    assert.equal(7, m.i)
    assert.equal(72.5, lib.tl_mixed2_sum(ffi.new("tl_mixed2", 2.5, 7)))
    local s = lib.tl_mixed2_swap(ffi.new("tl_mixed2", 3, 4))
    assert.equal(4, s.d)
    assert.equal(3, s.i)
  end)

  it("three bytes", function()
    local c = lib.tl_rgb_make(1, 2, 3)
    assert.equal(1, c.r)
    assert.equal(2, c.g)
    assert.equal(3, c.b)
    assert.equal(0x010203, lib.tl_rgb_pack(ffi.new("tl_rgb", 1, 2, 3)))
    local i = lib.tl_rgb_invert(c)
    assert.equal(254, i.r)
    assert.equal(252, i.b)
  end)

  it("three floats", function()
    local v = lib.tl_vec3f_make(1, 2, 3)
    assert.equal(1, v.x)
    assert.equal(2, v.y)
    assert.equal(3, v.z)
    assert.equal(321, lib.tl_vec3f_sum(v))
  end)

  it("nested structs", function()
    local r = lib.tl_rect_make(0, 0, 3, 4)
    assert.equal(3, r.b.x)
    assert.equal(4, r.b.y)
    assert.equal(12, lib.tl_rect_area(r))
    assert.equal(12, lib.tl_rect_area(ffi.new("tl_rect", { { 1, 1 }, { 4, 5 } })))
  end)

  it("a large struct result (returned in memory)", function()
    local b = lib.tl_big_make(1)
    assert.equal(1, b.a[0])
    assert.equal(10, b.a[9])
    assert.equal(0.5, b.d)
  end)

  it("a large struct argument (passed in memory)", function()
    local want = 0.5
    for i = 0, 9 do want = want + (1 + i) * (i + 1) end
    assert.equal(want, lib.tl_big_sum(lib.tl_big_make(1)))
    local b = ffi.new("tl_big")
    b.a[0] = 2
    b.d = 0.25
    assert.equal(2.25, lib.tl_big_sum(b))
  end)

  it("a large struct after the integer registers are used", function()
    local big = lib.tl_big_make(0)
    assert.equal(21 + lib.tl_big_sum(big), lib.tl_big_after_ints(1, 2, 3, 4, 5, 6, big))
  end)

  it("four doubles (memory class)", function()
    local q = lib.tl_quad_make(1, 2, 3, 4)
    assert.equal(1, q.a)
    assert.equal(4, q.d)
    assert.equal(30, lib.tl_quad_sum(q))
  end)

  it("a struct holding a char array", function()
    local c = lib.tl_chars_make("hi")
    assert.equal(104, c.c[0])
    assert.equal(2, lib.tl_chars_len(c))
    assert.equal(4, lib.tl_chars_len(lib.tl_chars_make("abcdefgh")))
  end)

  it("union results", function()
    assert.equal(1.0, lib.tl_if_from_int(0x3f800000).f)
    local u = lib.tl_if_from_float(1.0)
    assert.equal(0x3f800000, u.i)
    assert.equal(0x3f, u.b[3])
    assert.equal(0x3ff0000000000000, lib.tl_du_from_double(1.0).i)
  end)

  it("union arguments", function()
    assert.equal(5, lib.tl_if_get_int(ffi.new("tl_intfloat", 5)))
    assert.equal(1.0, lib.tl_if_get_float(lib.tl_if_from_float(1.0)))
    assert.equal(0x3ff0000000000000, lib.tl_du_get_int(ffi.new("tl_du", 1.0)))
  end)

  it("structs of two classes mixed with scalars", function()
    assert.equal(21 * 2 + 300 + 4000 + 5,
      lib.tl_struct_mix(ffi.new("tl_point", 1, 2), 2.0, ffi.new("tl_vec2", 3, 4), 5))
  end)

  it("two floats (one vector register)", function()
    local v = lib.tl_vec2f_make(1.5, 2.5)
    assert.equal(1.5, v.x)
    assert.equal(2.5, v.y)
    assert.equal(26.5, lib.tl_vec2f_sum(v))
  end)

  it("single-member structs", function()
    assert.equal(0.1, lib.tl_onedouble_make(0.1).d)
    assert.equal(2.5, lib.tl_onedouble_get(ffi.new("tl_onedouble", 2.5)))
    assert.equal(1.25, lib.tl_onefloat_make(1.25).f)
    assert.equal(1.25, lib.tl_onefloat_get(ffi.new("tl_onefloat", 1.25)))
    assert.equal(65, lib.tl_onechar_make(65).c)
    assert.equal(65, lib.tl_onechar_get(ffi.new("tl_onechar", 65)))
  end)

  it("a struct with a long double member", function()
    local s = lib.tl_ldstruct_make(2.5, 3)
    assert.equal(2.5, s.v)
    assert.equal(3, s.tag)
    assert.equal(3002.5, lib.tl_ldstruct_sum(s))
  end)

  it("a struct holding float[4]", function()
    local f = lib.tl_float4_make(1, 2, 3, 4)
    assert.equal(4, f.v[3])
    assert.equal(4321, lib.tl_float4_sum(f))
    assert.equal(4321, lib.tl_float4_sum(ffi.new("tl_float4", { { 1, 2, 3, 4 } })))
  end)

  it("a packed struct has C's size", function()
    assert.equal(lib.tl_packed_size(), ffi.sizeof("tl_packed"))
  end)

  -- These run in a separate interpreter: a wrong ABI choice can crash.
  it("a packed struct argument by value", function()
    local out = run_lua(PRELUDE .. [[
      print("sum", lib.tl_packed_sum(ffi.new("tl_packed", 1, 2, 3)))
    ]])
    assert.matches("sum\t321\n", out, 1, true)
  end)

  it("a packed struct result by value", function()
    local out = run_lua(PRELUDE .. [[
      local p = lib.tl_packed_make(1, 2, 3)
      print("fields", p.c, p.i, p.s)
    ]])
    assert.matches("fields\t1\t2\t3\n", out, 1, true)
  end)

  it("a struct with bitfields by value", function()
    local b = lib.tl_bits_make(3, 9, 7)
    assert.equal(3, b.a)
    assert.equal(9, b.b)
    assert.equal(7, b.c)
    assert.equal(3 + 900 + 70000, lib.tl_bits_sum(b))
    assert.equal(3 + 900 + 70000, lib.tl_bits_sum(ffi.new("tl_bits", 3, 9, 7)))
  end)

  it("a struct with a pointer member", function()
    local n = lib.tl_named_make(1)
    assert.equal("named", ffi.string(n.name))
    assert.equal(5, n.len)
  end)

  it("a NULL pointer member reads as nil", function()
    assert.is_nil(lib.tl_named_make(0).name)
  end)

  it("a struct with a function pointer member", function()
    local o = lib.tl_ops_make(100)
    assert.equal(5, o.op(2, 3))
    assert.equal(105, lib.tl_ops_apply(o, 2, 3))
  end)

  it("a small struct after the integer registers are full", function()
    assert.equal(21 + 700 + 8000 + 90000,
      lib.tl_point_after_ints(1, 2, 3, 4, 5, 6, ffi.new("tl_point", 7, 8), 9))
  end)

  it("a double struct after the vector registers are full", function()
    assert.equal(36 + 900 + 10000 + 110000,
      lib.tl_vec2_after_doubles(1, 2, 3, 4, 5, 6, 7, 8, ffi.new("tl_vec2", 9, 10), 11))
  end)

  it("four small structs", function()
    local P = ffi.typeof("tl_point")
    assert.equal(1 + 4 + 9 + 16 + 10 * 10,
      lib.tl_points4(P(1, 1), P(2, 2), P(3, 3), P(4, 4)))
  end)

  it("a pointer to a C struct reads and writes C memory", function()
    lib.tl_reset_globals()
    local p = lib.tl_global_point_ptr()
    assert.is_true(ffi.istype("tl_point *", p))
    assert.equal(10, p.x)
    p.y = 5
    assert.equal(5, lib.tl_global_point_ptr().y)
    lib.tl_reset_globals()
  end)

  it("the wrong struct type is an error", function()
    raises(function() lib.tl_point_sum(ffi.new("tl_vec2")) end,
      "bad argument #1 to 'tl_point_sum'", "struct tl_point")
  end)

  it("a number for a struct is an error", function()
    raises(function() lib.tl_point_sum(5) end,
      "bad argument #1 to 'tl_point_sum' (cannot convert 'number' to 'struct tl_point')")
  end)
end)

describe("many arguments", function()
  it("ten ints", function()
    assert.equal(385, lib.tl_sum10i(1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
  end)

  it("twelve long longs keep 64 bits on the stack", function()
    assert.equal(650, lib.tl_sum12ll(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12))
    local big = 1 << 40
    assert.equal(12 * big, lib.tl_sum12ll(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, big))
    assert.equal(-11, lib.tl_sum12ll(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0))
  end)

  it("ten doubles", function()
    local want = 0
    for i = 1, 10 do want = want + i * (i + 0.5) end
    assert.equal(want, lib.tl_sum10d(1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5))
  end)

  it("ten floats", function()
    local want = 0
    for i = 1, 10 do want = want + i * (i + 0.25) end
    assert.equal(want, lib.tl_sum10f(1.25, 2.25, 3.25, 4.25, 5.25, 6.25, 7.25,
                                     8.25, 9.25, 10.25))
  end)

  it("sixteen alternating int and double", function()
    assert.equal(1496, lib.tl_mixed16(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16))
    assert.equal(2 * 0.5 + 16 * 0.25,
      lib.tl_mixed16(0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.25))
  end)

  it("every width in one call", function()
    assert.equal(518, lib.tl_widths(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, true))
    assert.equal(-9 + 12 * 0, lib.tl_widths(0, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, false))
    assert.equal(7 * 255, lib.tl_widths(0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, false))
  end)

  it("twenty long longs", function()
    local args, want = {}, 0
    for i = 1, 20 do args[i] = i * 1000003; want = want + i * args[i] end
    assert.equal(want, lib.tl_sum20ll(table.unpack(args)))
  end)

  it("eight pointers", function()
    local p = {}
    for i = 1, 8 do p[i] = ffi.new("int[1]", i) end
    assert.equal(204, lib.tl_ptrs8(p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]))
  end)
end)

describe("variadic functions", function()
  it("integers pass as long long", function()
    assert.equal(6, lib.tl_vsum(3, 1, 2, 3))
    assert.equal((1 << 40) - 1, lib.tl_vsum(2, 1 << 40, -1))
    assert.equal(math.mininteger, lib.tl_vsum(1, math.mininteger))
  end)

  it("no variadic arguments", function()
    assert.equal(0, lib.tl_vsum(0))
  end)

  it("many variadic arguments (on the stack)", function()
    assert.equal(78, lib.tl_vsum(12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12))
  end)

  it("floats pass as double", function()
    assert.equal(3.75, lib.tl_vsumd(2, 1.5, 2.25))
    assert.equal(5.5, lib.tl_vsumd(11, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,
                                   0.5, 0.5, 0.5))
  end)

  it("variadic doubles after eight fixed doubles", function()
    assert.equal(36 + 150 + 500, lib.tl_vsumd_after8(1, 2, 3, 4, 5, 6, 7, 8, 2, 1.5, 2.5))
  end)

  it("an integer read as int", function()
    assert.equal(7, lib.tl_vmix("i", 7))
    assert.equal(-7, lib.tl_vmix("i", -7))
  end)

  it("strings pass as const char *", function()
    assert.equal(3, lib.tl_vmix("s", "abc"))
  end)

  it("nil passes as a NULL pointer", function()
    assert.equal(0, lib.tl_vmix("p", nil))
    assert.equal(2, lib.tl_vmix("pp", nil, "x"))
  end)

  it("booleans pass as int", function()
    assert.equal(1, lib.tl_vmix("i", true))
    assert.equal(0, lib.tl_vmix("i", false))
  end)

  it("a mix of all kinds", function()
    assert.equal(1 + 4 + 1.5 + 16 + 0, lib.tl_vmix("ildsp", 1, 2, 0.5, "abcd", nil))
  end)

  it("cdata float is promoted to double", function()
    assert.equal(0.25, lib.tl_vmix("d", ffi.new("float", 0.25)))
  end)

  it("cdata small integers are promoted to int", function()
    assert.equal(-3, lib.tl_vmix("i", ffi.new("short", -3)))
    assert.equal(200, lib.tl_vmix("i", ffi.new("uint8_t", 200)))
    assert.equal(65, lib.tl_vmix("i", ffi.new("char", 65)))
    assert.equal(1, lib.tl_vmix("i", ffi.new("bool", true)))
  end)

  it("cdata 64-bit integers keep their type", function()
    assert.equal(-5, lib.tl_vmix("l", ffi.new("int64_t", -5)))
    assert.equal(1 << 40, lib.tl_vmix("l", ffi.new("uint64_t", 1 << 40)))
  end)

  it("cdata double and unsigned int", function()
    assert.equal(2.5, lib.tl_vmix("d", ffi.new("double", 2.5)))
    assert.equal(4294967295, lib.tl_vmix("u", ffi.new("unsigned int", 4294967295)))
  end)

  it("cdata arrays pass their address", function()
    assert.equal(1, lib.tl_vmix("p", ffi.new("int[2]")))
    local buf = ffi.new("char[8]", "abc")
    assert.equal(3, lib.tl_vmix("s", buf))
  end)

  it("cdata pointers pass as pointers", function()
    local a = ffi.new("int[2]")
    assert.equal(1, lib.tl_vmix("p", a + 1))
    assert.equal(0, lib.tl_vmix("p", ffi.cast("void *", 0)))
  end)

  it("a vsnprintf wrapper", function()
    local buf = ffi.new("char[64]")
    assert.equal(9, lib.tl_vformat(buf, 64, "%d|%s|%.2f", 42, "x", 1.5))
    assert.equal("42|x|1.50", ffi.string(buf))
  end)

  it("a table among the variadic arguments is an error", function()
    raises(function() lib.tl_vsum(1, {}) end, "bad argument #2 to 'tl_vsum'")
  end)

  it("a function among the variadic arguments is an error", function()
    raises(function() lib.tl_vsum(2, 1, print) end, "bad argument #3 to 'tl_vsum'")
  end)

  it("the fixed part converts by the declared types", function()
    raises(function() lib.tl_vsum("x", 1) end,
      "bad argument #1 to 'tl_vsum' (cannot convert 'string' to 'int')")
  end)
end)

describe("snprintf from libc", function()
  local buf = ffi.new("char[256]")
  local function fmt(f, ...)
    local n = C.snprintf(buf, 256, f, ...)
    local s = ffi.string(buf)
    assert.equal(#s, n)
    return s
  end

  it("%d", function() assert.equal("42", fmt("%d", 42)) end)
  it("%d negative", function() assert.equal("-42", fmt("%d", -42)) end)
  it("%ld", function() assert.equal("42", fmt("%ld", 42)) end)
  it("%lld with a 64-bit value", function()
    assert.equal("1099511627776", fmt("%lld", 1 << 40))
  end)
  it("%s", function() assert.equal("[str]", fmt("[%s]", "str")) end)
  it("%.2f", function() assert.equal("3.14", fmt("%.2f", 3.14159)) end)
  it("%.1f with an integral float", function() assert.equal("2.0", fmt("%.1f", 2.0)) end)
  it("%p with nil", function() assert.equal("(nil)", fmt("%p", nil)) end)
  it("%p with a pointer", function()
    assert.matches("^0x%x+$", fmt("%p", ffi.new("int[1]")))
  end)
  it("%c", function() assert.equal("A", fmt("%c", 65)) end)
  it("%x", function() assert.equal("ff", fmt("%x", 255)) end)
  it("%u with -1", function() assert.equal("4294967295", fmt("%u", -1)) end)
  it("%hhd truncates", function() assert.equal("44", fmt("%hhd", 300)) end)
  it("%d with a boolean", function() assert.equal("1 0", fmt("%d %d", true, false)) end)
  it("%s with a char array", function()
    assert.equal("abc", fmt("%s", ffi.new("char[8]", "abc")))
  end)
  it("%f with a cdata float", function()
    assert.equal("1.50", fmt("%.2f", ffi.new("float", 1.5)))
  end)
  it("%lld with a cdata int64_t", function()
    assert.equal("-7", fmt("%lld", ffi.new("int64_t", -7)))
  end)
  it("mixed formats", function()
    assert.equal("42 x 1.50", fmt("%d %s %.2f", 42, "x", 1.5))
  end)
  it("ten integers and ten doubles", function()
    assert.equal("1 2 3 4 5 6 7 8 9 10",
      fmt("%d %d %d %d %d %d %d %d %d %d", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
    assert.equal("0.5 1.5 2.5 3.5 4.5 5.5 6.5 7.5 8.5 9.5",
      fmt("%.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f",
          0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5))
  end)
  it("truncates to the buffer size and returns the full length", function()
    local small = ffi.new("char[4]")
    assert.equal(6, C.snprintf(small, 4, "%s", "abcdef"))
    assert.equal("abc", ffi.string(small))
  end)
  it("a table argument is an error", function()
    raises(function() C.snprintf(buf, 8, "%d", {}) end,
      "bad argument #4 to 'snprintf'")
  end)
end)

describe("errno", function()
  it("ffi.errno returns errno saved after the last call", function()
    assert.equal(-1, lib.tl_set_errno(33))
    assert.equal(33, ffi.errno())
  end)

  it("ffi.errno returns an integer", function()
    lib.tl_set_errno(4)
    assert.equal("integer", math.type(ffi.errno()))
  end)

  it("the saved value survives Lua code that changes errno", function()
    lib.tl_set_errno(12)
    local f = io.open("/nonexistent/dir/file")   -- sets errno = ENOENT
    assert.is_nil(f)
    assert.equal(12, ffi.errno())
  end)

  it("ffi.errno(new) returns the old value", function()
    lib.tl_set_errno(21)
    assert.equal(21, ffi.errno(5))
    assert.equal(5, ffi.errno())
  end)

  it("ffi.errno(new) sets errno before the next call", function()
    ffi.errno(17)
    assert.equal(17, lib.tl_get_errno())
    ffi.errno(0)
    assert.equal(0, lib.tl_get_errno())
  end)

  it("errno from libc", function()
    assert.equal(-1, C.close(-1))
    assert.equal(9, ffi.errno())   -- EBADF
  end)

  it("errno from strtol overflow", function()
    ffi.errno(0)
    assert.equal(math.maxinteger, C.strtol("99999999999999999999999", nil, 10))
    assert.equal(34, ffi.errno())   -- ERANGE
  end)

  it("a char ** out parameter of libc", function()
    local endp = ffi.new("char *[1]")
    local s = "123abc"
    assert.equal(123, C.strtol(s, endp, 10))
    assert.equal("abc", ffi.string(endp[0]))
  end)

  it("a non-number is an error", function()
    raises(function() ffi.errno("x") end, "bad argument #1")
  end)
end)

describe("argument errors", function()
  it("too few arguments", function()
    raises(function() lib.tl_add(1) end,
      "wrong number of arguments for 'tl_add' (expected 2, got 1)")
  end)

  it("too many arguments", function()
    raises(function() lib.tl_add(1, 2, 3) end,
      "wrong number of arguments for 'tl_add' (expected 2, got 3)")
  end)

  it("arguments to a function taking none", function()
    raises(function() lib.tl_noop(1) end,
      "wrong number of arguments for 'tl_noop' (expected 0, got 1)")
  end)

  it("too few arguments to a variadic function", function()
    raises(function() lib.tl_vsum() end,
      "wrong number of arguments for 'tl_vsum'")
  end)

  it("a string for an int", function()
    raises(function() lib.tl_add(1, "x") end,
      "bad argument #2 to 'tl_add' (cannot convert 'string' to 'int')")
  end)

  it("a numeric string is not a number", function()
    raises(function() lib.tl_add("1", 2) end,
      "bad argument #1 to 'tl_add' (cannot convert 'string' to 'int')")
  end)

  it("a table for an int", function()
    raises(function() lib.tl_add({}, 1) end,
      "bad argument #1 to 'tl_add' (cannot convert 'table' to 'int')")
  end)

  it("nil for an int", function()
    raises(function() lib.tl_add(nil, 1) end,
      "bad argument #1 to 'tl_add' (cannot convert 'nil' to 'int')")
  end)

  it("a function for an int", function()
    raises(function() lib.tl_add(1, print) end,
      "bad argument #2 to 'tl_add' (cannot convert 'function' to 'int')")
  end)

  it("a string for a double", function()
    raises(function() lib.tl_dadd(1, "2") end,
      "bad argument #2 to 'tl_dadd' (cannot convert 'string' to 'double')")
  end)

  it("a string for an int pointer", function()
    raises(function() lib.tl_sum_ints("abc", 1) end,
      "bad argument #1 to 'tl_sum_ints' (cannot convert 'string' to 'const int *')")
  end)

  it("a number for a char pointer", function()
    raises(function() lib.tl_strlen(5) end,
      "bad argument #1 to 'tl_strlen' (cannot convert 'number' to 'const char *')")
  end)

  it("a table for a char pointer", function()
    raises(function() lib.tl_strlen({}) end,
      "bad argument #1 to 'tl_strlen' (cannot convert 'table' to 'const char *')")
  end)

  it("a boolean for a pointer", function()
    raises(function() lib.tl_is_null(true) end,
      "bad argument #1 to 'tl_is_null' (cannot convert 'boolean' to 'const void *')")
  end)

  it("a pointer of the wrong type", function()
    raises(function() lib.tl_sum_ints(ffi.new("double[2]"), 2) end,
      "bad argument #1 to 'tl_sum_ints'", "cdata<double", "to 'const int *'")
  end)

  it("a cdata struct for an int", function()
    raises(function() lib.tl_add(1, ffi.new("tl_point")) end,
      "bad argument #2 to 'tl_add'", "cdata<struct tl_point>", "to 'int'")
  end)

  it("a conversion error names the C function when called through a local", function()
    local f = lib.tl_add
    raises(function() f(1, "x") end,
      "bad argument #2 to 'tl_add' (cannot convert 'string' to 'int')")
  end)

  it("a conversion error names the C function when called by pcall", function()
    local ok, err = pcall(lib.tl_add, 1, "x")
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'tl_add' (cannot convert 'string' to 'int')",
      err, 1, true)
  end)

  it("a const pointer does not convert to a non-const one", function()
    raises(function() lib.tl_strlen_nc(lib.tl_hello()) end,
      "bad argument #1 to 'tl_strlen_nc' (cannot convert 'cdata<const char *>' to 'char *')")
  end)

  it("a scalar cdata is not a pointer", function()
    raises(function() lib.tl_sum_ints(ffi.new("int", 1), 1) end,
      "bad argument #1 to 'tl_sum_ints' (cannot convert 'cdata<int>' to 'const int *')")
  end)

  it("a struct by value among variadic arguments is an error", function()
    raises(function() lib.tl_vsum(1, ffi.new("tl_point", 1, 2)) end,
      "bad argument #2 to 'tl_vsum'", "struct tl_point")
  end)

  it("an error in a later argument leaves no call made", function()
    lib.tl_set_errno(3)
    raises(function() lib.tl_set_errno("x") end, "bad argument #1")
    assert.equal(3, ffi.errno())
  end)

  it("function pointer cdata number arguments from the first C argument", function()
    local fp = ffi.cast("int (*)(int, int)", lib.tl_add)
    raises(function() fp(1, "x") end,
      "bad argument #2", "cannot convert 'string' to 'int'")
  end)

  it("function pointer cdata check the argument count", function()
    local fp = ffi.cast("int (*)(int, int)", lib.tl_add)
    raises(function() fp(1) end, "wrong number of arguments", "expected 2, got 1")
  end)
end)

describe("function pointers and function cdata", function()
  it("a library function has the function's type", function()
    assert.equal(ffi.typeof("int (int, int)"), ffi.typeof(lib.tl_add))
  end)

  it("two lookups give the same object", function()
    assert.equal(lib.tl_add, lib.tl_add)
    assert.is_true(rawequal(lib.tl_add, lib.tl_add))
  end)

  it("ffi.cast to a function pointer is callable", function()
    local fp = ffi.cast("int (*)(int, int)", lib.tl_add)
    assert.equal(5, fp(2, 3))
    assert.is_true(ffi.istype("int (*)(int, int)", fp))
  end)

  it("ffi.addressof(lib, name) gives a callable function pointer", function()
    local fp = ffi.addressof(lib, "tl_add")
    assert.equal(5, fp(2, 3))
  end)

  it("the address is the C function's address", function()
    assert.equal(1, lib.tl_is_add1(ffi.addressof(lib, "tl_add1")))
    assert.equal(1, lib.tl_is_add1(ffi.cast("tl_intfn", lib.tl_add1)))
    assert.equal(0, lib.tl_is_add1(ffi.addressof(lib, "tl_twice")))
  end)

  it("a library function passes as a function pointer argument", function()
    assert.equal(6, lib.tl_call_int(lib.tl_add1, 5))
    assert.equal(1, lib.tl_is_add1(lib.tl_add1))
  end)

  it("a Lua function passes as a function pointer (implicit callback)", function()
    assert.equal(12, lib.tl_call_int(function(x) return x * 3 end, 4))
  end)

  it("a cast function pointer passes as an argument", function()
    assert.equal(7, lib.tl_call_int2(ffi.cast("int (*)(int, int)", lib.tl_sub), 10, 3))
  end)

  it("a function pointer result is callable", function()
    local f = lib.tl_get_twice()
    assert.equal(42, f(21))
    assert.is_true(ffi.istype("tl_intfn", f))
    assert.equal(1, lib.tl_is_add1(lib.tl_get_add1()))
  end)

  it("a NULL function pointer result is nil", function()
    assert.is_nil(lib.tl_get_null_fn())
  end)

  it("calling a NULL function pointer is an error", function()
    local f = ffi.cast("int (*)(int)", 0)
    raises(function() f(1) end, "NULL pointer")
  end)

  it("calling a zero-initialised function pointer is an error", function()
    local f = ffi.new("tl_intfn")
    raises(function() f(1) end, "NULL pointer")
  end)

  it("a function pointer is pointer-sized", function()
    assert.equal(ffi.sizeof("void *"), ffi.sizeof(lib.tl_get_add1()))
  end)

  it("a function pointer global is callable", function()
    lib.tl_reset_globals()
    assert.equal(11, lib.tl_global_fn(10))
  end)

  it("a function pointer global can be assigned", function()
    lib.tl_global_fn = lib.tl_get_twice()
    assert.equal(10, lib.tl_global_fn_call(5))
    lib.tl_global_fn = nil
    assert.is_nil(lib.tl_global_fn)
    assert.equal(-1, lib.tl_global_fn_call(5))
    lib.tl_reset_globals()
    assert.equal(6, lib.tl_global_fn_call(5))
  end)

  it("ffi.C functions are function cdata too", function()
    assert.equal(3, C.strlen("abc"))
    assert.equal(ffi.typeof("size_t (const char *)"), ffi.typeof(C.strlen))
    assert.equal(3, ffi.cast("size_t (*)(const char *)", C.strlen)("abc"))
  end)
end)

describe("calls from Lua contexts", function()
  it("inside a coroutine", function()
    local co = coroutine.wrap(function(a)
      local b = coroutine.yield(lib.tl_add(a, 1))
      return lib.tl_add(b, 1)
    end)
    assert.equal(11, co(10))
    assert.equal(21, co(20))
  end)

  it("argument errors inside a coroutine", function()
    local co = coroutine.create(function() return lib.tl_add(1, "x") end)
    local ok, err = coroutine.resume(co)
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'tl_add' (cannot convert 'string' to 'int')",
      err, 1, true)
  end)

  it("as the target of pcall", function()
    assert.same({ true, 5 }, { pcall(lib.tl_add, 2, 3) })
    local ok, err = pcall(lib.tl_add, 2)
    assert.is_false(ok)
    assert.matches("wrong number of arguments for 'tl_add'", err, 1, true)
  end)

  it("through string.gsub as a callback-free C closure", function()
    local r = ("1 2 3"):gsub("%d", function(d) return lib.tl_twice(tonumber(d)) end)
    assert.equal("2 4 6", r)
  end)
end)

describe("call overhead", function()
  it("scalar calls allocate no Lua memory", function()
    local add, dadd = lib.tl_add, lib.tl_dadd
    add(1, 2)
    dadd(1.5, 2)
    collectgarbage()
    collectgarbage("stop")
    local before = collectgarbage("count")
    local s = 0
    for i = 1, 10000 do s = s + add(i, 1) + dadd(i, 0.5) end
    local grown = collectgarbage("count") - before
    collectgarbage("restart")
    assert.is_true(grown < 1, "grew by " .. grown .. " KB")
    assert.is_true(s > 0)
  end)
end)

-- The direct-call fast path and the libffi path must agree.  When the module
-- exposes ffi._slowpath, each signature class runs both ways.
describe("fast path and libffi path", function()
  local classes = {
    { "int (int, int)", 5, function() return lib.tl_add(2, 3) end },
    { "void (void)", 0, function() return select("#", lib.tl_noop()) end },
    { "narrow ints", 0x34 * 1000 - 1, function()
        return lib.tl_u8_trunc(0x1234) * 1000 + lib.tl_i8_trunc(0x12ff)
      end },
    { "int64", math.mininteger, function() return lib.tl_i64_add(math.maxinteger, 1) end },
    { "uint64", -1, function() return lib.tl_u64_max() end },
    { "bool", true, function() return lib.tl_not(false) end },
    { "float", 3.75, function() return lib.tl_fadd(1.5, 2.25) end },
    { "double", 0.1 + 0.2, function() return lib.tl_dadd(0.1, 0.2) end },
    { "mixed int/float", 32, function() return lib.tl_fd_mix(1, 2.5, 3, 4.25) end },
    { "pointer", 6, function()
        local a = ffi.new("int[3]", 1, 2, 3)
        return lib.tl_sum_ints(a, 3)
      end },
    { "pointer result", 3, function()
        local a = ffi.new("int[3]", 1, 2, 3)
        return lib.tl_ptr_offset(a, 2)[0]
      end },
    { "string", 5, function() return lib.tl_strlen("hello") end },
    { "NULL result", true, function() return lib.tl_return_null() == nil end },
    { "six ints", 91, function() return lib.tl_sum10i(1, 2, 3, 4, 5, 6, 0, 0, 0, 0) end },
    { "ten ints", 385, function() return lib.tl_sum10i(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) end },
    { "ten doubles", 385, function()
        return lib.tl_sum10d(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
      end },
    { "function pointer", 6, function() return lib.tl_call_int(lib.tl_add1, 5) end },
    { "struct", 21, function() return lib.tl_point_sum(lib.tl_point_make(1, 2)) end },
    { "big struct", 30, function() return lib.tl_quad_sum(lib.tl_quad_make(1, 2, 3, 4)) end },
    { "long double", 3.75, function() return lib.tl_ldadd(1.5, 2.25) end },
    { "complex", 10, function()
        return lib.tl_cdmul(ffi.new("complex double", 1, 2), ffi.new("complex double", 3, 4)).im
      end },
    { "varargs", 6, function() return lib.tl_vsum(3, 1, 2, 3) end },
    { "varargs mixed", 22.5, function()
        return lib.tl_vmix("ildsp", 1, 2, 0.5, "abcd", nil)
      end },
    { "varargs after eight doubles", 686, function()
        return lib.tl_vsumd_after8(1, 2, 3, 4, 5, 6, 7, 8, 2, 1.5, 2.5)
      end },
    { "every width", 518, function()
        return lib.tl_widths(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, true)
      end },
    { "sixteen mixed", 1496, function()
        return lib.tl_mixed16(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
      end },
    { "twelve long longs", 650, function()
        return lib.tl_sum12ll(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
      end },
    { "ten floats", 385, function()
        return lib.tl_sum10f(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
      end },
    { "eight pointers", 204, function()
        local p = {}
        for i = 1, 8 do p[i] = ffi.new("int[1]", i) end
        return lib.tl_ptrs8(p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8])
      end },
    { "struct of two doubles", 11, function()
        return lib.tl_vec2_dot(lib.tl_vec2_make(1, 2), ffi.new("tl_vec2", 3, 4))
      end },
    { "struct of two floats", 26.5, function()
        return lib.tl_vec2f_sum(lib.tl_vec2f_make(1.5, 2.5))
      end },
    { "struct int+float", 7, function()
        return lib.tl_mixed_sum(lib.tl_mixed_make(2, 0.5))
      end },
    { "struct double+int64", 72.5, function()
        return lib.tl_mixed2_sum(lib.tl_mixed2_make(2.5, 7))
      end },
    { "struct of three bytes", 0xfefdfc, function()
        return lib.tl_rgb_pack(lib.tl_rgb_invert(lib.tl_rgb_make(1, 2, 3)))
      end },
    { "struct of three floats", 321, function()
        return lib.tl_vec3f_sum(lib.tl_vec3f_make(1, 2, 3))
      end },
    { "nested struct", 12, function()
        return lib.tl_rect_area(lib.tl_rect_make(0, 0, 3, 4))
      end },
    { "struct of float[4]", 4321, function()
        return lib.tl_float4_sum(lib.tl_float4_make(1, 2, 3, 4))
      end },
    { "struct with long double", 3002.5, function()
        return lib.tl_ldstruct_sum(lib.tl_ldstruct_make(2.5, 3))
      end },
    { "struct with bitfields", 70903, function()
        return lib.tl_bits_sum(lib.tl_bits_make(3, 9, 7))
      end },
    { "struct with char[5]", 2, function()
        return lib.tl_chars_len(lib.tl_chars_make("hi"))
      end },
    { "single-member structs", 3.5, function()
        return lib.tl_onedouble_get(lib.tl_onedouble_make(2.25))
             + lib.tl_onefloat_get(lib.tl_onefloat_make(1.25))
      end },
    { "large struct after six ints", 351, function()
        return lib.tl_big_after_ints(1, 2, 3, 4, 5, 6, lib.tl_big_make(0))
      end },
    { "small struct on the stack", 98721, function()
        return lib.tl_point_after_ints(1, 2, 3, 4, 5, 6, ffi.new("tl_point", 7, 8), 9)
      end },
    { "double struct on the stack", 120936, function()
        return lib.tl_vec2_after_doubles(1, 2, 3, 4, 5, 6, 7, 8, ffi.new("tl_vec2", 9, 10), 11)
      end },
    { "unions", 0x3f800000, function()
        return lib.tl_if_get_int(lib.tl_if_from_float(1.0))
      end },
    { "union of double and int64", 0x3ff0000000000000, function()
        return lib.tl_du_get_int(lib.tl_du_from_double(1.0))
      end },
    { "complex float", 10, function()
        return lib.tl_cfmul(ffi.new("complex float", 1, 2), ffi.new("complex float", 3, 4)).im
      end },
    { "struct with function pointer", 105, function()
        return lib.tl_ops_apply(lib.tl_ops_make(100), 2, 3)
      end },
    { "struct of two doubles in and out", 4494, function()
        local v = lib.tl_vec2_scale(ffi.new("tl_vec2", 1.5, -2), 3)
        return v.x * 1000 + v.y
      end },
    { "int struct in and out", 31042, function()
        local r = lib.tl_point_add(ffi.new("tl_point", 1, 2), ffi.new("tl_point", 30, 40))
        return r.x * 1000 + r.y
      end },
    { "int struct result in two registers", 3004, function()
        local r = lib.tl_rect_make(1, 2, 3, 4)
        return r.b.x * 1000 + r.b.y + r.a.x + r.a.y - 3
      end },
    { "structs of both classes among scalars", 4347, function()
        return lib.tl_struct_mix(ffi.new("tl_point", 1, 2), 2.0, ffi.new("tl_vec2", 3, 4), 5)
      end },
    { "four int structs", 130, function()
        local P = ffi.typeof("tl_point")
        return lib.tl_points4(P(1, 1), P(2, 2), P(3, 3), P(4, 4))
      end },
    { "struct double+int64 in and out", 27, function()
        local m = lib.tl_mixed2_swap(lib.tl_mixed2_make(2.5, 7))
        return m.d + 10 * m.i
      end },
    { "struct arguments from tables", 11, function()
        return lib.tl_vec2_dot({ 1, 2 }, { x = 3, y = 4 })
      end },
    { "struct argument from a field reference", 43, function()
        local r = ffi.new("tl_rect", { { 1, 2 }, { 3, 4 } })
        return lib.tl_point_sum(r.b)
      end },
    { "struct cdata to a pointer parameter", 7, function()
        return lib.tl_point_getx(ffi.new("tl_point", 7, 8))
      end },
    { "complex double in and out", -2, function()
        return lib.tl_cdconj(ffi.new("complex double", 1, 2)).im
      end },
    { "errno", 33, function()
        lib.tl_set_errno(33)
        return ffi.errno()
      end },
  }

  for _, c in ipairs(classes) do
    it(c[1] .. " gives the expected result on the default path", function()
      assert.equal(c[2], c[3]())
    end)
  end

  if type(ffi._slowpath) == "function" then
    for _, c in ipairs(classes) do
      it(c[1] .. " gives the same result through libffi", function()
        local old = ffi._slowpath(true)
        local ok, slow = pcall(c[3])
        ffi._slowpath(old or false)
        assert.is_true(ok, tostring(slow))
        assert.equal(c[2], slow)
      end)
    end
  end
end)
