/*
** cffitest.c: the main C library the specs call (built with the other C
** files of spec/lib into spec/lib/libcffitest.so).
**
** One function per signature class the call path must handle: every integer
** width, bool, float, double, long double, complex, pointers, arrays, structs
** and unions by value (in registers, in memory, mixed int/float), many
** arguments, varargs, errno, NULL results, function pointers, globals of
** every kind and a small object API (tl_counter) for the metatype specs.
** Every symbol starts with tl_ so it cannot clash with the other files.
** Results are built so that a swapped, truncated or misplaced argument
** gives a different answer (weighted sums, not plain sums).
*/
#include <complex.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TL_API __attribute__((visibility("default")))

/* ---------------------------------------------------------------------
** Plain calls.
** --------------------------------------------------------------------- */

TL_API void tl_noop(void) {}
TL_API int tl_add(int a, int b) { return a + b; }
TL_API int tl_sub(int a, int b) { return a - b; }
TL_API int tl_add1(int x) { return x + 1; }
TL_API int tl_twice(int x) { return 2 * x; }
TL_API int tl_forty_two(void) { return 42; }
/* Never declared by any spec: checks that undeclared names stay hidden. */
TL_API int tl_never_declared(void) { return 1; }
/* Declared by lib_spec only after the library was loaded. */
TL_API int tl_late(int x) { return x * 100; }

/* ---------------------------------------------------------------------
** Integers: identity (conversion of the argument and of the result) and
** arithmetic that wraps in the declared width.
** --------------------------------------------------------------------- */

TL_API int8_t tl_i8_id(int8_t x) { return x; }
TL_API uint8_t tl_u8_id(uint8_t x) { return x; }
TL_API int16_t tl_i16_id(int16_t x) { return x; }
TL_API uint16_t tl_u16_id(uint16_t x) { return x; }
TL_API int32_t tl_i32_id(int32_t x) { return x; }
TL_API uint32_t tl_u32_id(uint32_t x) { return x; }
TL_API int64_t tl_i64_id(int64_t x) { return x; }
TL_API uint64_t tl_u64_id(uint64_t x) { return x; }
TL_API char tl_char_id(char x) { return x; }
TL_API signed char tl_schar_id(signed char x) { return x; }
TL_API unsigned char tl_uchar_id(unsigned char x) { return x; }
TL_API short tl_short_id(short x) { return x; }
TL_API unsigned short tl_ushort_id(unsigned short x) { return x; }
TL_API long tl_long_id(long x) { return x; }
TL_API unsigned long tl_ulong_id(unsigned long x) { return x; }
TL_API long long tl_llong_id(long long x) { return x; }
TL_API unsigned long long tl_ullong_id(unsigned long long x) { return x; }
TL_API size_t tl_size_id(size_t x) { return x; }
TL_API intptr_t tl_intptr_id(intptr_t x) { return x; }

TL_API int8_t tl_i8_add(int8_t a, int8_t b) { return (int8_t)(a + b); }
TL_API uint8_t tl_u8_add(uint8_t a, uint8_t b) { return (uint8_t)(a + b); }
TL_API int16_t tl_i16_add(int16_t a, int16_t b) { return (int16_t)(a + b); }
TL_API uint16_t tl_u16_add(uint16_t a, uint16_t b) { return (uint16_t)(a + b); }
TL_API int32_t tl_i32_add(int32_t a, int32_t b)
{ return (int32_t)((uint32_t)a + (uint32_t)b); }
TL_API uint32_t tl_u32_add(uint32_t a, uint32_t b) { return a + b; }
TL_API int64_t tl_i64_add(int64_t a, int64_t b)
{ return (int64_t)((uint64_t)a + (uint64_t)b); }
TL_API uint64_t tl_u64_add(uint64_t a, uint64_t b) { return a + b; }

/* Narrowing in the callee: gcc returns these with the upper register bits
** as they came in, so the caller must truncate / extend the result. */
TL_API uint8_t tl_u8_trunc(uint32_t x) { return (uint8_t)x; }
TL_API int8_t tl_i8_trunc(uint32_t x) { return (int8_t)x; }
TL_API uint16_t tl_u16_trunc(uint32_t x) { return (uint16_t)x; }
TL_API int16_t tl_i16_trunc(uint32_t x) { return (int16_t)x; }
TL_API uint32_t tl_u32_trunc(uint64_t x) { return (uint32_t)x; }
TL_API int32_t tl_i32_trunc(uint64_t x) { return (int32_t)x; }

/* Widening in the callee: the argument must arrive extended right. */
TL_API int tl_i8_to_int(int8_t x) { return x; }
TL_API int tl_u8_to_int(uint8_t x) { return x; }
TL_API int64_t tl_i32_to_i64(int32_t x) { return x; }
TL_API int64_t tl_u32_to_i64(uint32_t x) { return x; }

TL_API uint64_t tl_u64_max(void) { return UINT64_MAX; }
TL_API uint64_t tl_u64_top(void) { return (uint64_t)1 << 63; }
TL_API int64_t tl_i64_min(void) { return INT64_MIN; }
TL_API uint32_t tl_u32_max(void) { return UINT32_MAX; }
TL_API int8_t tl_i8_neg(void) { return -5; }

/* ---------------------------------------------------------------------
** bool
** --------------------------------------------------------------------- */

TL_API bool tl_not(bool b) { return !b; }
TL_API bool tl_is_positive(int x) { return x > 0; }
TL_API int tl_bool_to_int(bool b) { return b ? 1 : 0; }
TL_API bool tl_and3(bool a, bool b, bool c) { return a && b && c; }

/* ---------------------------------------------------------------------
** Floating point
** --------------------------------------------------------------------- */

TL_API float tl_fadd(float a, float b) { return a + b; }
TL_API double tl_dadd(double a, double b) { return a + b; }
TL_API float tl_fid(float x) { return x; }
TL_API double tl_did(double x) { return x; }
TL_API double tl_f_to_d(float x) { return (double)x; }
TL_API float tl_d_to_f(double x) { return (float)x; }
/* Float and integer arguments interleaved: registers of both files. */
TL_API double tl_fd_mix(int a, float b, long c, double d)
{ return a + 2.0 * b + 3.0 * (double)c + 4.0 * d; }

TL_API long double tl_ldadd(long double a, long double b) { return a + b; }
TL_API long double tl_ldid(long double x) { return x; }
TL_API double tl_ld_to_d(long double x) { return (double)x; }
TL_API long double tl_d_to_ld(double x) { return (long double)x; }
/* Something only long double precision gets right: (2^60 + 1) - 2^60. */
TL_API double tl_ld_precise(void)
{
  long double a = 1152921504606846976.0L;   /* 2^60 */
  long double b = a + 1.0L;
  return (double)(b - a);
}
TL_API int tl_ld_mix(int a, long double b, int c) { return a + (int)b * 10 + c * 100; }

/* ---------------------------------------------------------------------
** Complex
** --------------------------------------------------------------------- */

TL_API float complex tl_cfmul(float complex a, float complex b) { return a * b; }
TL_API double complex tl_cdmul(double complex a, double complex b) { return a * b; }
TL_API double complex tl_cdmake(double re, double im) { return re + im * I; }
TL_API float complex tl_cfmake(float re, float im) { return re + im * I; }
TL_API double tl_cdre(double complex z) { return creal(z); }
TL_API double tl_cdim(double complex z) { return cimag(z); }
TL_API double tl_cfim(float complex z) { return cimagf(z); }
TL_API double complex tl_cdconj(double complex z) { return conj(z); }

/* ---------------------------------------------------------------------
** Pointers, arrays, strings
** --------------------------------------------------------------------- */

TL_API int tl_sum_ints(const int *p, int n)
{
  int s = 0;
  for (int i = 0; i < n; i++) s += p[i];
  return s;
}
TL_API double tl_sum_doubles(const double *p, int n)
{
  double s = 0;
  for (int i = 0; i < n; i++) s += p[i];
  return s;
}
TL_API void tl_fill_ints(int *p, int n, int v)
{
  for (int i = 0; i < n; i++) p[i] = v + i;
}
/* Declared in the spec with an array parameter: `int tl_sum4(int a[4])`. */
TL_API int tl_sum4(const int *a) { return a[0] + 2 * a[1] + 3 * a[2] + 4 * a[3]; }
TL_API void tl_swap(int *a, int *b) { int t = *a; *a = *b; *b = t; }
TL_API int *tl_ptr_offset(int *p, int n) { return p + n; }
TL_API ptrdiff_t tl_ptr_diff(const int *a, const int *b) { return a - b; }
TL_API void *tl_return_null(void) { return NULL; }
TL_API int *tl_return_null_int(void) { return NULL; }
TL_API int tl_is_null(const void *p) { return p == NULL; }
TL_API const char *tl_hello(void) { return "hello"; }
TL_API const char *tl_str_or_null(int which) { return which ? "yes" : NULL; }
TL_API void tl_int_out(int *out, int v) { if (out) *out = v; }
TL_API void tl_double_out(double *out, double v) { if (out) *out = v; }
TL_API uintptr_t tl_ptr_to_int(const void *p) { return (uintptr_t)p; }
TL_API void **tl_ptrptr(void **pp) { return pp; }

/* Strings into every char-ish pointer type, const or not. */
TL_API size_t tl_strlen(const char *s) { return s ? strlen(s) : (size_t)-1; }
TL_API size_t tl_strlen_nc(char *s) { return strlen(s); }
TL_API int tl_ucsum(const unsigned char *s)
{
  int n = 0;
  while (*s) n += *s++;
  return n;
}
TL_API int tl_ucsum_nc(unsigned char *s) { return tl_ucsum(s); }
TL_API int tl_scfirst(const signed char *s) { return s[0]; }
TL_API int tl_scfirst_nc(signed char *s) { return s[0]; }
TL_API size_t tl_voidlen(const void *p) { return strlen((const char *)p); }
TL_API size_t tl_voidlen_nc(void *p) { return strlen((const char *)p); }
/* Sum of n bytes: sees embedded zeros. */
TL_API int tl_memsum(const void *p, size_t n)
{
  const unsigned char *b = p;
  int s = 0;
  for (size_t i = 0; i < n; i++) s += b[i];
  return s;
}
TL_API void tl_upper(char *buf)
{
  for (; *buf; buf++)
    if (*buf >= 'a' && *buf <= 'z') *buf = (char)(*buf - 'a' + 'A');
}
TL_API int tl_strcmp(const char *a, const char *b)
{
  int r = strcmp(a, b);
  return (r > 0) - (r < 0);
}
/* Writes "tl:<s>" into buf (at most n bytes); returns the full length. */
TL_API int tl_prefix(char *buf, size_t n, const char *s)
{
  return snprintf(buf, n, "tl:%s", s);
}

/* ---------------------------------------------------------------------
** Enums
** --------------------------------------------------------------------- */

enum tl_color { TL_RED, TL_GREEN = 5, TL_BLUE };
TL_API int tl_color_value(enum tl_color c) { return (int)c * 10; }
TL_API enum tl_color tl_next_color(enum tl_color c)
{ return c == TL_RED ? TL_GREEN : c == TL_GREEN ? TL_BLUE : TL_RED; }

/* ---------------------------------------------------------------------
** Structs and unions by value
** --------------------------------------------------------------------- */

typedef struct tl_point { int x, y; } tl_point;             /* 8: one INTEGER reg */
typedef struct tl_vec2 { double x, y; } tl_vec2;            /* 16: two SSE regs */
typedef struct tl_mixed { int i; float f; } tl_mixed;       /* 8: one reg, mixed */
typedef struct tl_mixed2 { double d; int64_t i; } tl_mixed2; /* 16: SSE + INTEGER */
typedef struct tl_rgb { unsigned char r, g, b; } tl_rgb;    /* 3 bytes */
typedef struct tl_vec3f { float x, y, z; } tl_vec3f;        /* 12: two SSE regs */
typedef struct tl_rect { tl_point a, b; } tl_rect;          /* 16: nested */
typedef struct tl_big { int a[10]; double d; } tl_big;      /* 48: memory */
typedef struct tl_quad { double a, b, c, d; } tl_quad;      /* 32: memory */
typedef struct tl_chars { char c[5]; } tl_chars;            /* 5 bytes */
typedef union tl_intfloat { int i; float f; unsigned char b[4]; } tl_intfloat;
typedef union tl_du { double d; int64_t i; } tl_du;

TL_API tl_point tl_point_make(int x, int y) { tl_point p = { x, y }; return p; }
TL_API int tl_point_sum(tl_point p) { return p.x + 10 * p.y; }
TL_API tl_point tl_point_add(tl_point a, tl_point b)
{ tl_point r = { a.x + b.x, a.y + b.y }; return r; }
TL_API void tl_point_scale(tl_point *p, int k) { p->x *= k; p->y *= k; }
TL_API int tl_point_getx(const tl_point *p) { return p ? p->x : -1; }
TL_API tl_point *tl_point_null(void) { return NULL; }

TL_API tl_vec2 tl_vec2_make(double x, double y) { tl_vec2 v = { x, y }; return v; }
TL_API tl_vec2 tl_vec2_scale(tl_vec2 v, double s) { v.x *= s; v.y *= s; return v; }
TL_API double tl_vec2_dot(tl_vec2 a, tl_vec2 b) { return a.x * b.x + a.y * b.y; }

TL_API tl_mixed tl_mixed_make(int i, float f) { tl_mixed m = { i, f }; return m; }
TL_API double tl_mixed_sum(tl_mixed m) { return m.i + 10.0 * m.f; }
TL_API tl_mixed2 tl_mixed2_make(double d, int64_t i) { tl_mixed2 m = { d, i }; return m; }
TL_API double tl_mixed2_sum(tl_mixed2 m) { return m.d + 10.0 * (double)m.i; }
TL_API tl_mixed2 tl_mixed2_swap(tl_mixed2 m)
{ tl_mixed2 r = { (double)m.i, (int64_t)m.d }; return r; }

TL_API tl_rgb tl_rgb_make(int r, int g, int b)
{ tl_rgb c = { (unsigned char)r, (unsigned char)g, (unsigned char)b }; return c; }
TL_API int tl_rgb_pack(tl_rgb c) { return (c.r << 16) | (c.g << 8) | c.b; }
TL_API tl_rgb tl_rgb_invert(tl_rgb c)
{ tl_rgb r = { (unsigned char)(255 - c.r), (unsigned char)(255 - c.g), (unsigned char)(255 - c.b) }; return r; }

TL_API tl_vec3f tl_vec3f_make(float x, float y, float z)
{ tl_vec3f v = { x, y, z }; return v; }
TL_API double tl_vec3f_sum(tl_vec3f v) { return v.x + 10.0 * v.y + 100.0 * v.z; }

TL_API tl_rect tl_rect_make(int x0, int y0, int x1, int y1)
{ tl_rect r = { { x0, y0 }, { x1, y1 } }; return r; }
TL_API int tl_rect_area(tl_rect r) { return (r.b.x - r.a.x) * (r.b.y - r.a.y); }

TL_API tl_big tl_big_make(int seed)
{
  tl_big b;
  for (int i = 0; i < 10; i++) b.a[i] = seed + i;
  b.d = seed * 0.5;
  return b;
}
TL_API double tl_big_sum(tl_big b)
{
  double s = 0;
  for (int i = 0; i < 10; i++) s += b.a[i] * (i + 1);
  return s + b.d;
}
/* A memory-class struct after the integer registers are used up. */
TL_API double tl_big_after_ints(int a, int b, int c, int d, int e, int f, tl_big big)
{ return a + b + c + d + e + f + tl_big_sum(big); }

TL_API tl_quad tl_quad_make(double a, double b, double c, double d)
{ tl_quad q = { a, b, c, d }; return q; }
TL_API double tl_quad_sum(tl_quad q) { return q.a + 2 * q.b + 3 * q.c + 4 * q.d; }

TL_API tl_chars tl_chars_make(const char *s)
{
  tl_chars c;
  memset(&c, 0, sizeof c);
  strncpy(c.c, s, sizeof c.c - 1);
  return c;
}
TL_API int tl_chars_len(tl_chars c)
{
  int n = 0;
  while (n < (int)sizeof c.c && c.c[n]) n++;
  return n;
}

TL_API tl_intfloat tl_if_from_int(int i) { tl_intfloat u; u.i = i; return u; }
TL_API tl_intfloat tl_if_from_float(float f) { tl_intfloat u; u.f = f; return u; }
TL_API int tl_if_get_int(tl_intfloat u) { return u.i; }
TL_API double tl_if_get_float(tl_intfloat u) { return u.f; }
TL_API tl_du tl_du_from_double(double d) { tl_du u; u.d = d; return u; }
TL_API int64_t tl_du_get_int(tl_du u) { return u.i; }

/* Two structs of different classes plus scalars in one call. */
TL_API double tl_struct_mix(tl_point p, double s, tl_vec2 v, int k)
{ return (p.x + 10 * p.y) * s + v.x * 100 + v.y * 1000 + k; }

/* More struct classes: one float pair (one SSE register), single-member
** structs, a long double member (x87 class: memory), a float[4] array,
** packed and bitfield layouts, a pointer member, a function pointer member. */
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

TL_API tl_vec2f tl_vec2f_make(float x, float y) { tl_vec2f v = { x, y }; return v; }
TL_API double tl_vec2f_sum(tl_vec2f v) { return v.x + 10.0 * v.y; }
TL_API tl_onedouble tl_onedouble_make(double d) { tl_onedouble o = { d }; return o; }
TL_API double tl_onedouble_get(tl_onedouble o) { return o.d; }
TL_API tl_onefloat tl_onefloat_make(float f) { tl_onefloat o = { f }; return o; }
TL_API double tl_onefloat_get(tl_onefloat o) { return o.f; }
TL_API tl_onechar tl_onechar_make(int c) { tl_onechar o = { (char)c }; return o; }
TL_API int tl_onechar_get(tl_onechar o) { return o.c; }
TL_API tl_ldstruct tl_ldstruct_make(double v, int tag)
{ tl_ldstruct r = { v, tag }; return r; }
TL_API double tl_ldstruct_sum(tl_ldstruct s) { return (double)s.v + s.tag * 1000.0; }
TL_API tl_float4 tl_float4_make(float a, float b, float c, float d)
{ tl_float4 r = { { a, b, c, d } }; return r; }
TL_API double tl_float4_sum(tl_float4 f)
{ return f.v[0] + 10.0 * f.v[1] + 100.0 * f.v[2] + 1000.0 * f.v[3]; }
TL_API tl_packed tl_packed_make(int c, int i, int s)
{ tl_packed p = { (char)c, i, (short)s }; return p; }
TL_API int tl_packed_sum(tl_packed p) { return p.c + 10 * p.i + 100 * p.s; }
TL_API int tl_packed_size(void) { return (int)sizeof(tl_packed); }
TL_API tl_bits tl_bits_make(unsigned a, unsigned b, int c)
{ tl_bits r; r.a = a; r.b = b; r.c = c; return r; }
TL_API int tl_bits_sum(tl_bits x) { return (int)x.a + 100 * (int)x.b + 10000 * x.c; }
TL_API tl_named tl_named_make(int which)
{ tl_named n = { which ? "named" : NULL, which ? 5 : 0 }; return n; }
TL_API tl_ops tl_ops_make(int bias) { tl_ops o = { tl_add, bias }; return o; }
TL_API int tl_ops_apply(tl_ops o, int a, int b) { return o.op(a, b) + o.bias; }

/* Structs after the registers are full: they go on the stack whole. */
TL_API int tl_point_after_ints(int a, int b, int c, int d, int e, int f,
                               tl_point p, int g)
{ return a + b + c + d + e + f + p.x * 100 + p.y * 1000 + g * 10000; }
TL_API double tl_vec2_after_doubles(double a, double b, double c, double d,
                                    double e, double f, double g, double h,
                                    tl_vec2 v, double i)
{ return a + b + c + d + e + f + g + h + v.x * 100 + v.y * 1000 + i * 10000; }
/* Small struct arguments that fill the registers by themselves. */
TL_API int tl_points4(tl_point a, tl_point b, tl_point c, tl_point d)
{ return a.x + 2 * b.x + 3 * c.x + 4 * d.x + 10 * (a.y + b.y + c.y + d.y); }

/* Pointer to a global struct, out parameter of pointer type. */
TL_API tl_point *tl_global_point_ptr(void);
TL_API void tl_strdup_out(const char *s, char **out)
{
  size_t n = strlen(s) + 1;
  *out = malloc(n);
  if (*out) memcpy(*out, s, n);
}

/* An enum whose constants need unsigned int. */
enum tl_bigenum { TL_BIG_LOW = 1, TL_BIG_HIGH = 0x80000000u };
TL_API enum tl_bigenum tl_bigenum_high(void) { return TL_BIG_HIGH; }
TL_API int tl_bigenum_is_high(enum tl_bigenum e) { return e == TL_BIG_HIGH; }

/* A value type for the metatype specs: money in cents. */
typedef struct tl_money { long long cents; } tl_money;
TL_API tl_money tl_money_make(long long cents) { tl_money m = { cents }; return m; }
TL_API tl_money tl_money_add(tl_money a, tl_money b)
{ tl_money m = { a.cents + b.cents }; return m; }
TL_API int tl_money_cmp(tl_money a, tl_money b)
{ return (a.cents > b.cents) - (a.cents < b.cents); }

/* Returned by value, for metatype __gc on values made by C. */
typedef struct tl_handle { int id; } tl_handle;
TL_API tl_handle tl_handle_make(int id) { tl_handle h = { id }; return h; }

/* ---------------------------------------------------------------------
** Many arguments (some on the stack)
** --------------------------------------------------------------------- */

TL_API int tl_sum10i(int a, int b, int c, int d, int e, int f, int g, int h,
                     int i, int j)
{ return a + 2*b + 3*c + 4*d + 5*e + 6*f + 7*g + 8*h + 9*i + 10*j; }

TL_API long long tl_sum12ll(long long a, long long b, long long c, long long d,
                            long long e, long long f, long long g, long long h,
                            long long i, long long j, long long k, long long l)
{
  return a + 2*b + 3*c + 4*d + 5*e + 6*f + 7*g + 8*h + 9*i + 10*j + 11*k
       + 12*l;
}

TL_API double tl_sum10d(double a, double b, double c, double d, double e,
                        double f, double g, double h, double i, double j)
{ return a + 2*b + 3*c + 4*d + 5*e + 6*f + 7*g + 8*h + 9*i + 10*j; }

TL_API float tl_sum10f(float a, float b, float c, float d, float e, float f,
                       float g, float h, float i, float j)
{ return a + 2*b + 3*c + 4*d + 5*e + 6*f + 7*g + 8*h + 9*i + 10*j; }

/* 16 arguments alternating int and double: 8 of each kind, some of each on
** the stack on aarch64 and x86-64 (6 INTEGER registers). */
TL_API double tl_mixed16(int a, double b, int c, double d, int e, double f,
                         int g, double h, int i, double j, int k, double l,
                         int m, double n, int o, double p)
{
  return a + 2*b + 3*c + 4*d + 5*e + 6*f + 7*g + 8*h + 9*i + 10*j + 11*k
       + 12*l + 13*m + 14*n + 15*o + 16*p;
}

/* Every width in one call, the small ones on the stack. */
TL_API double tl_widths(char a, short b, int c, long d, float e, double f,
                        unsigned char g, long long h, signed char i,
                        unsigned short j, unsigned int k, bool l)
{
  return a + 2.0*b + 3.0*c + 4.0*(double)d + 5.0*e + 6.0*f + 7.0*g
       + 8.0*(double)h + 9.0*i + 10.0*j + 11.0*k + 12.0*l;
}

/* Pointers mixed with scalars beyond the register count. */
TL_API int tl_ptrs8(const int *a, const int *b, const int *c, const int *d,
                    const int *e, const int *f, const int *g, const int *h)
{ return *a + 2 * *b + 3 * *c + 4 * *d + 5 * *e + 6 * *f + 7 * *g + 8 * *h; }

TL_API long long tl_sum20ll(long long a1, long long a2, long long a3,
                            long long a4, long long a5, long long a6,
                            long long a7, long long a8, long long a9,
                            long long a10, long long a11, long long a12,
                            long long a13, long long a14, long long a15,
                            long long a16, long long a17, long long a18,
                            long long a19, long long a20)
{
  return a1 + 2*a2 + 3*a3 + 4*a4 + 5*a5 + 6*a6 + 7*a7 + 8*a8 + 9*a9
       + 10*a10 + 11*a11 + 12*a12 + 13*a13 + 14*a14 + 15*a15 + 16*a16
       + 17*a17 + 18*a18 + 19*a19 + 20*a20;
}

/* ---------------------------------------------------------------------
** Varargs
** --------------------------------------------------------------------- */

/* Sum of n long long arguments. */
TL_API long long tl_vsum(int n, ...)
{
  va_list ap;
  long long s = 0;
  va_start(ap, n);
  for (int i = 0; i < n; i++) s += va_arg(ap, long long);
  va_end(ap);
  return s;
}

/* Sum of n double arguments. */
TL_API double tl_vsumd(int n, ...)
{
  va_list ap;
  double s = 0;
  va_start(ap, n);
  for (int i = 0; i < n; i++) s += va_arg(ap, double);
  va_end(ap);
  return s;
}

/* spec says what each argument is: i int, u unsigned int, l long long,
** d double, s string (adds its length), p pointer (adds 1 unless NULL).
** Each argument is weighted by its position (1-based). */
TL_API double tl_vmix(const char *spec, ...)
{
  va_list ap;
  double s = 0;
  int k = 1;
  va_start(ap, spec);
  for (; *spec; spec++, k++) {
    switch (*spec) {
    case 'i': s += k * (double)va_arg(ap, int); break;
    case 'u': s += k * (double)va_arg(ap, unsigned int); break;
    case 'l': s += k * (double)va_arg(ap, long long); break;
    case 'd': s += k * va_arg(ap, double); break;
    case 's': s += k * (double)strlen(va_arg(ap, const char *)); break;
    case 'p': s += k * (va_arg(ap, void *) != NULL); break;
    default: break;
    }
  }
  va_end(ap);
  return s;
}

/* Variadic doubles after eight fixed doubles: everything past the vector
** registers goes on the stack. */
TL_API double tl_vsumd_after8(double a, double b, double c, double d,
                              double e, double f, double g, double h,
                              int n, ...)
{
  va_list ap;
  double s = a + b + c + d + e + f + g + h;
  va_start(ap, n);
  for (int i = 0; i < n; i++) s += (i + 1) * 100 * va_arg(ap, double);
  va_end(ap);
  return s;
}

/* Formats into buf with vsnprintf; returns the length. */
TL_API int tl_vformat(char *buf, size_t n, const char *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = vsnprintf(buf, n, fmt, ap);
  va_end(ap);
  return r;
}

/* ---------------------------------------------------------------------
** errno
** --------------------------------------------------------------------- */

TL_API int tl_set_errno(int e) { errno = e; return -1; }
TL_API int tl_get_errno(void) { return errno; }

/* ---------------------------------------------------------------------
** Function pointers
** --------------------------------------------------------------------- */

typedef int (*tl_intfn)(int);
TL_API int tl_call_int(int (*f)(int), int x) { return f(x); }
TL_API int tl_call_int2(int (*f)(int, int), int a, int b) { return f(a, b); }
TL_API tl_intfn tl_get_add1(void) { return tl_add1; }
TL_API tl_intfn tl_get_twice(void) { return tl_twice; }
TL_API tl_intfn tl_get_null_fn(void) { return NULL; }
TL_API int tl_is_add1(int (*f)(int)) { return f == tl_add1; }

/* ---------------------------------------------------------------------
** Globals
** --------------------------------------------------------------------- */

TL_API int tl_global_int = 42;
TL_API double tl_global_double = 3.5;
TL_API float tl_global_float = 1.25f;
TL_API int64_t tl_global_i64 = (int64_t)1 << 40;
TL_API uint8_t tl_global_u8 = 200;
TL_API bool tl_global_bool = true;
TL_API const int tl_global_const = 7;
TL_API int tl_global_array[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
TL_API tl_point tl_global_point = { 10, 20 };
TL_API int *tl_global_nullptr = NULL;
TL_API int *tl_global_ptr = &tl_global_int;
TL_API const char *tl_global_string = "hello from C";
TL_API char tl_global_buf[32] = "buffer";
TL_API enum tl_color tl_global_color = TL_GREEN;
TL_API int (*tl_global_fn)(int) = tl_add1;
TL_API int tl_global_alias_target = 1234;

TL_API int tl_get_global_int(void) { return tl_global_int; }
TL_API tl_point *tl_global_point_ptr(void) { return &tl_global_point; }
TL_API double tl_get_global_double(void) { return tl_global_double; }
TL_API int tl_global_array_sum(void) { return tl_sum_ints(tl_global_array, 8); }
TL_API int tl_global_point_x(void) { return tl_global_point.x; }
TL_API int tl_global_point_y(void) { return tl_global_point.y; }
TL_API int tl_global_nullptr_is_null(void) { return tl_global_nullptr == NULL; }
TL_API int tl_global_ptr_value(void) { return tl_global_ptr ? *tl_global_ptr : -1; }
TL_API const char *tl_global_buf_get(void) { return tl_global_buf; }
TL_API int tl_global_fn_call(int x) { return tl_global_fn ? tl_global_fn(x) : -1; }
TL_API void tl_reset_globals(void)
{
  tl_global_int = 42;
  tl_global_double = 3.5;
  tl_global_float = 1.25f;
  tl_global_i64 = (int64_t)1 << 40;
  tl_global_u8 = 200;
  tl_global_bool = true;
  for (int i = 0; i < 8; i++) tl_global_array[i] = i + 1;
  tl_global_point.x = 10;
  tl_global_point.y = 20;
  tl_global_nullptr = NULL;
  tl_global_ptr = &tl_global_int;
  tl_global_string = "hello from C";
  strcpy(tl_global_buf, "buffer");
  tl_global_color = TL_GREEN;
  tl_global_fn = tl_add1;
}

/* ---------------------------------------------------------------------
** A small object API, for ffi.metatype / ffi.gc specs and the example.
** --------------------------------------------------------------------- */

typedef struct tl_counter { int value; struct tl_counter *next; } tl_counter;

TL_API int tl_counters_live = 0;     /* created and not yet freed */
TL_API int tl_counters_freed = 0;    /* freed so far */
TL_API int tl_counters_bad_free = 0; /* frees of something not a live counter */
static tl_counter *tl_counter_list;  /* live counters: a double free is
                                        counted in tl_counters_bad_free
                                        instead of corrupting the heap */

TL_API tl_counter *tl_counter_new(int start)
{
  tl_counter *c = malloc(sizeof *c);
  if (!c) return NULL;
  c->value = start;
  c->next = tl_counter_list;
  tl_counter_list = c;
  tl_counters_live++;
  return c;
}
TL_API void tl_counter_incr(tl_counter *c, int by) { c->value += by; }
TL_API int tl_counter_get(const tl_counter *c) { return c->value; }
TL_API void tl_counter_set(tl_counter *c, int v) { c->value = v; }
TL_API void tl_counter_free(tl_counter *c)
{
  tl_counter **pp = &tl_counter_list;
  if (!c) return;
  while (*pp && *pp != c) pp = &(*pp)->next;
  if (!*pp) { tl_counters_bad_free++; return; }
  *pp = c->next;
  tl_counters_live--;
  tl_counters_freed++;
  free(c);
}
TL_API int tl_counter_live_count(void) { return tl_counters_live; }

/* A free() that counts, for ffi.gc finalizer specs on malloc'd memory. */
TL_API int tl_free_calls = 0;
TL_API void *tl_malloc(size_t n) { return malloc(n); }
TL_API void tl_free(void *p) { if (p) tl_free_calls++; free(p); }
