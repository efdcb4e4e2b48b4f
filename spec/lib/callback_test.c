/*
** callback_test.c: C functions that call callbacks, for spec/callback_spec.lua.
** Built into libcffitest.so with the other C files of spec/lib.
*/
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A stored pointer, called later (as a real program keeps a handler). */
static int (*cbt_stored)(int);

void cbt_store(int (*f)(int)) { cbt_stored = f; }
int cbt_call_stored(int x) { return cbt_stored ? cbt_stored(x) : -1; }
void *cbt_get_stored(void) { return (void *)cbt_stored; }

int cbt_call_ii(int (*f)(int, int), int a, int b) { return f(a, b); }

/* Calls f(0) .. f(n-1) and sums the results. */
long long cbt_call_n(int (*f)(int), int n) {
  long long s = 0;
  int i;
  for (i = 0; i < n; i++) s += f(i);
  return s;
}

void cbt_call_void(void (*f)(void)) { f(); }

/* One function per scalar type: pass x through f and back. */
#define CBT_PASS(name, T) \
  T cbt_##name(T (*f)(T), T x) { return f(x); }
CBT_PASS(i8, int8_t)
CBT_PASS(u8, uint8_t)
CBT_PASS(i16, int16_t)
CBT_PASS(u16, uint16_t)
CBT_PASS(i32, int32_t)
CBT_PASS(u32, uint32_t)
CBT_PASS(i64, int64_t)
CBT_PASS(u64, uint64_t)
CBT_PASS(flt, float)
CBT_PASS(dbl, double)
CBT_PASS(bool, bool)
CBT_PASS(ptr, void *)
CBT_PASS(long, long)
CBT_PASS(char, char)

/* Narrow returns must arrive widened correctly in C: compare in C. */
int cbt_i8_is(int8_t (*f)(void), int v) { return f() == v; }
int cbt_u16_is(uint16_t (*f)(void), int v) { return f() == v; }
int cbt_bool_is(bool (*f)(void), int v) { return f() == (v != 0); }

enum cbt_color { CBT_RED, CBT_GREEN = 5, CBT_BLUE };
int cbt_enum(enum cbt_color (*f)(enum cbt_color), enum cbt_color c) {
  return (int)f(c);
}

int cbt_null(int (*f)(void *)) { return f(NULL); }

const char *cbt_str(int (*f)(const char *)) {
  return f("hello") == 5 ? "ok" : "bad";
}

/* Many arguments: some go on the stack on every ABI. */
double cbt_many(double (*f)(int8_t, uint8_t, int16_t, uint16_t, int32_t,
                            uint32_t, int64_t, uint64_t, float, double,
                            float, double, float, double, float, double,
                            int, double)) {
  return f(-1, 255, -300, 65000, -70000, 4000000000u, -5000000000LL,
           10000000000ULL, 1.5f, 2.25, 3.5f, 4.25, 5.5f, 6.25, 7.5f, 8.25,
           42, 9.75);
}

/* Structs by value. */
struct cbt_pt { int x, y; };
struct cbt_dpt { double x, y; };
struct cbt_mix { char c; float f; short s; };
struct cbt_big { int64_t a, b, c, d; };
struct cbt_nest { struct cbt_pt p; double w; };
struct cbt_arr { float v[3]; };
struct cbt_bits { unsigned a : 3, b : 5; int c; };
union cbt_u { int i; float f; };

struct cbt_pt cbt_pt(struct cbt_pt (*f)(struct cbt_pt), int x, int y) {
  struct cbt_pt p = {x, y};
  return f(p);
}
struct cbt_dpt cbt_dpt(struct cbt_dpt (*f)(struct cbt_dpt), double x, double y) {
  struct cbt_dpt p = {x, y};
  return f(p);
}
struct cbt_mix cbt_mix(struct cbt_mix (*f)(struct cbt_mix, int), char c,
                       float fl, short s) {
  struct cbt_mix m = {c, fl, s};
  return f(m, 7);
}
struct cbt_big cbt_big(struct cbt_big (*f)(struct cbt_big)) {
  struct cbt_big b = {1, -2, 3000000000LL, -4};
  return f(b);
}
double cbt_nest(double (*f)(struct cbt_nest)) {
  struct cbt_nest n = {{3, 4}, 0.5};
  return f(n);
}
float cbt_arr(float (*f)(struct cbt_arr)) {
  struct cbt_arr a = {{1.5f, 2.5f, 3.5f}};
  return f(a);
}
int cbt_bits(int (*f)(struct cbt_bits)) {
  struct cbt_bits b;
  b.a = 5;
  b.b = 17;
  b.c = -9;
  return f(b);
}
int cbt_union(union cbt_u (*f)(union cbt_u)) {
  union cbt_u u;
  u.i = 41;
  return f(u).i;
}

/* Nested: C calls back, Lua calls C, which calls back again. */
int cbt_twice(int (*f)(int), int x) { return f(f(x)); }

/* The stored pointer as an integer, to count distinct closures. */
uintptr_t cbt_stored_addr(void) { return (uintptr_t)cbt_stored; }

long double cbt_ldbl(long double (*f)(long double), long double x) { return f(x); }
double _Complex cbt_cdbl(double _Complex (*f)(double _Complex), double re, double im) {
  double _Complex z = re + im * 1.0i;
  return f(z);
}
float _Complex cbt_cflt(float _Complex (*f)(float _Complex), float re, float im) {
  float _Complex z = re + im * 1.0fi;
  return f(z);
}

/* Layouts libffi cannot lay out itself: packed records (misaligned
** members: passed in memory on x86-64) and over-aligned members. */
struct cbt_pk { char c; int i; short s; } __attribute__((packed));
struct cbt_pkd { char c; double d; } __attribute__((packed));
struct cbt_pkbig { char c; int64_t a, b; } __attribute__((packed));
struct cbt_al { char c; int x __attribute__((aligned(8))); };

struct cbt_pk cbt_pk(struct cbt_pk (*f)(struct cbt_pk, int), char c, int i,
                     short s) {
  struct cbt_pk p;
  p.c = c;
  p.i = i;
  p.s = s;
  return f(p, 7);
}
/* C checks the packed result itself. */
int cbt_pk_check(struct cbt_pk (*f)(void), char c, int i, short s) {
  struct cbt_pk p = f();
  return p.c == c && p.i == i && p.s == s;
}
/* Register arguments on both sides of a packed one. */
double cbt_pkd(double (*f)(int, struct cbt_pkd, double, int), char c, double d) {
  struct cbt_pkd p;
  p.c = c;
  p.d = d;
  return f(1, p, 0.25, 2);
}
struct cbt_pkbig cbt_pkbig(struct cbt_pkbig (*f)(struct cbt_pkbig)) {
  struct cbt_pkbig p;
  p.c = 'x';
  p.a = -5000000000LL;
  p.b = 6000000000LL;
  return f(p);
}
struct cbt_al cbt_al(struct cbt_al (*f)(struct cbt_al), char c, int x) {
  struct cbt_al a = {c, x};
  return f(a);
}
