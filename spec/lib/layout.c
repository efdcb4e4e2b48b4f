/*
** layout.c: layout facts for spec/layout_spec.lua, as gcc sees them.
**
** Each fact is a type declared here in C and, from the same tokens, as a
** declaration string the spec feeds to ffi.cdef (LAYOUT stringifies its
** arguments, so the two cannot drift apart).  The spec compares
** ffi.sizeof / ffi.alignof / ffi.offsetof with sizeof / _Alignof / offsetof.
** Bitfields are located by setting one to all ones in a zeroed object and
** reporting the bytes.
**
** Also here: helpers for cdata_spec (FILE *, NULL in C memory) and
** state_spec (independent lua_States driven through the Lua API of the
** running interpreter).
*/
#define _GNU_SOURCE
#include <complex.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#define LSTR(x) #x

/* typedef ... NAME; plus NAME_decl, the same declaration as a string. */
#define LAYOUT(name, ...) \
  typedef __VA_ARGS__ name; \
  static const char name##_decl[] = "typedef " #__VA_ARGS__ " " #name ";";

/* The same under #pragma pack(push, n) ... #pragma pack(pop). */
#define LAYOUT_PACK(n, name, ...) \
  _Pragma(LSTR(pack(push, n))) typedef __VA_ARGS__ name; _Pragma("pack(pop)") \
  static const char name##_decl[] = "#pragma pack(push, " #n ")\n" \
    "typedef " #__VA_ARGS__ " " #name ";\n#pragma pack(pop)\n";

typedef struct LayoutField { const char *name; size_t off; } LayoutField;
typedef struct LayoutBits {
  const char *name;
  void (*set)(void *);
  long long (*get)(const void *);
} LayoutBits;
typedef struct LayoutFact {
  const char *name, *decl;
  size_t size, align;
  const LayoutField *f;
  int nf;
  const LayoutBits *b;
  int nb;
} LayoutFact;

#define F(T, m) { #m, offsetof(T, m) }
/* A setter (all ones) and a getter for bitfield m of T. */
#define BITF(T, m) \
  static void T##_##m##_set(void *p) { T *s = p; long long ones = -1; s->m = ones; } \
  static long long T##_##m##_get(const void *p) { const T *s = p; return (long long)s->m; }
#define B(T, m) { #m, T##_##m##_set, T##_##m##_get }

/* ---- primitives ------------------------------------------------------- */
LAYOUT(lay_char, char)
LAYOUT(lay_schar, signed char)
LAYOUT(lay_uchar, unsigned char)
LAYOUT(lay_short, short)
LAYOUT(lay_ushort, unsigned short int)
LAYOUT(lay_int, int)
LAYOUT(lay_uint, unsigned)
LAYOUT(lay_long, long)
LAYOUT(lay_ulong, unsigned long int)
LAYOUT(lay_llong, long long)
LAYOUT(lay_ullong, unsigned long long int)
LAYOUT(lay_float, float)
LAYOUT(lay_double, double)
LAYOUT(lay_ldouble, long double)
LAYOUT(lay_bool, _Bool)
LAYOUT(lay_voidp, void *)
LAYOUT(lay_ccharpp, const char **)
LAYOUT(lay_size, size_t)
LAYOUT(lay_ptrdiff, ptrdiff_t)
LAYOUT(lay_intptr, intptr_t)
LAYOUT(lay_uintptr, uintptr_t)
LAYOUT(lay_wchar, wchar_t)
LAYOUT(lay_i8, int8_t)
LAYOUT(lay_u16, uint16_t)
LAYOUT(lay_i32, int32_t)
LAYOUT(lay_u64, uint64_t)
LAYOUT(lay_cfloat, float _Complex)
LAYOUT(lay_cdouble, double _Complex)

/* Declarations whose name sits inside the declarator: written twice. */
typedef int (*lay_fnptr)(int, double);
static const char lay_fnptr_decl[] = "typedef int (*lay_fnptr)(int, double);";
typedef int lay_arr2d[3][5];
static const char lay_arr2d_decl[] = "typedef int lay_arr2d[3][5];";
typedef char lay_arr7[7];
static const char lay_arr7_decl[] = "typedef char lay_arr7[7];";
typedef int lay_v4si __attribute__((vector_size(16)));
static const char lay_v4si_decl[] =
  "typedef int lay_v4si __attribute__((vector_size(16)));";
typedef float lay_v2sf __attribute__((vector_size(8)));
static const char lay_v2sf_decl[] =
  "typedef float lay_v2sf __attribute__((vector_size(8)));";

/* ---- plain structs ---------------------------------------------------- */
LAYOUT(lay_basic, struct lay_basic { char c; int i; double d; })
LAYOUT(lay_tail, struct lay_tail { int i; char c; })
LAYOUT(lay_chars, struct lay_chars { char a, b, c; })
LAYOUT(lay_mix, struct lay_mix { char a; short b; char c; long long d; char e; })
LAYOUT(lay_ptrs, struct lay_ptrs { char c; void *p; const char *s; int (*fn)(void); })
LAYOUT(lay_arrays, struct lay_arrays { char tag; short s[3]; double m[2][3]; char z[5]; })
LAYOUT(lay_nested, struct lay_nested {
  char a;
  struct lay_nested_in { char b; short c; int d; } in;
  char e;
  struct lay_basic bs[2];
  char f;
})
LAYOUT(lay_deep, struct lay_deep {
  struct { char a; struct { short b; long long c; } x; } mid;
  char z;
})
LAYOUT(lay_fixed, struct lay_fixed {
  int8_t a; int64_t b; uint16_t c; int32_t d; uint8_t e[3]; uint64_t f;
})
LAYOUT(lay_withbool, struct lay_withbool { bool a; int b; _Bool c; })
LAYOUT(lay_ld, struct lay_ld { char c; long double ld; short s; })
LAYOUT(lay_cplx, struct lay_cplx { char c; double _Complex z; float _Complex w; })
LAYOUT(lay_vecmem, struct lay_vecmem { char c; lay_v4si v; char d; })
LAYOUT(lay_enums, struct lay_enums {
  char c;
  enum lay_color { LAY_RED, LAY_GREEN = 5, LAY_BLUE } col;
  char d;
})
LAYOUT(lay_uenum, enum lay_uenum { LAY_UBIG = 0x80000000u, LAY_USMALL = 1 })
LAYOUT(lay_negenum, enum lay_negenum { LAY_NEG = -3, LAY_POS = 3 })
LAYOUT(lay_wide, struct lay_wide { char c; wchar_t w; size_t n; ptrdiff_t d; })

/* ---- unions and anonymous members ------------------------------------- */
LAYOUT(lay_union, union lay_union { char c; int i; double d; })
LAYOUT(lay_unarr, union lay_unarr { char b[5]; int i; })
LAYOUT(lay_instu, struct lay_instu { char tag; union { int i; float f; } u; short s; })
LAYOUT(lay_anonu, struct lay_anonu {
  char tag;
  union { int i; double d; };
  char after;
})
LAYOUT(lay_anons, union lay_anons {
  struct { char a; int b; };
  struct { short c; short d; long long e; };
})
LAYOUT(lay_anonnest, struct lay_anonnest {
  int first;
  struct {
    char x;
    union { short y; struct { char y1; char y2; char y3; }; };
  };
  long double last;
})

/* ---- attributes -------------------------------------------------------- */
LAYOUT(lay_packed, struct __attribute__((packed)) lay_packed { char c; int i; double d; short s; })
LAYOUT(lay_packed2, struct lay_packed2 { char c; int i; short s; } __attribute__((packed)))
LAYOUT(lay_mempacked, struct lay_mempacked { char c; int i __attribute__((packed)); short s; })
LAYOUT(lay_al16, struct lay_al16 { int i; } __attribute__((aligned(16))))
LAYOUT(lay_malign, struct lay_malign { char c; int i __attribute__((aligned(8))); char d; })
LAYOUT(lay_malign32, struct lay_malign32 { char c; char d __attribute__((aligned(32))); })
LAYOUT(lay_hasal, struct lay_hasal { char c; struct lay_al16 a; char d; })
LAYOUT(lay_packal, struct __attribute__((packed, aligned(4))) lay_packal { char c; int i; char d; })

/* ---- #pragma pack ------------------------------------------------------ */
LAYOUT_PACK(1, lay_pack1, struct lay_pack1 { char c; int i; double d; short s; })
LAYOUT_PACK(2, lay_pack2, struct lay_pack2 { char c; int i; double d; char e; })
LAYOUT_PACK(4, lay_pack4, struct lay_pack4 { char c; double d; long long l; char e; })
LAYOUT_PACK(8, lay_pack8, struct lay_pack8 { char c; double d; short s; })
LAYOUT_PACK(2, lay_pack2n, struct lay_pack2n { char c; struct lay_basic b; short s; })

/* ---- flexible and zero-length arrays, empty struct -------------------- */
LAYOUT(lay_flex, struct lay_flex { int n; double d[]; })
LAYOUT(lay_flex2, struct lay_flex2 { double d; char c; short s[]; })
LAYOUT(lay_flex3, struct lay_flex3 { char c; int a[]; })
LAYOUT(lay_zero, struct lay_zero { int n; char data[0]; })
LAYOUT(lay_old, struct lay_old { short n; int data[1]; })
LAYOUT(lay_empty, struct lay_empty { })
LAYOUT(lay_hasempty, struct lay_hasempty { char c; struct lay_empty e; int i; })

/* ---- bitfields --------------------------------------------------------- */
LAYOUT(lay_bf1, struct lay_bf1 { unsigned a : 3; unsigned b : 5; unsigned c : 7; unsigned d : 17; })
BITF(lay_bf1, a) BITF(lay_bf1, b) BITF(lay_bf1, c) BITF(lay_bf1, d)
LAYOUT(lay_bf2, struct lay_bf2 { int a : 1; int b : 31; int c : 2; })
BITF(lay_bf2, a) BITF(lay_bf2, b) BITF(lay_bf2, c)
LAYOUT(lay_bf3, struct lay_bf3 { char x; int a : 4; int : 0; int b : 4; })
BITF(lay_bf3, a) BITF(lay_bf3, b)
LAYOUT(lay_bf4, struct lay_bf4 { signed char a : 3; signed char b : 6; })
BITF(lay_bf4, a) BITF(lay_bf4, b)
LAYOUT(lay_bf5, struct lay_bf5 { unsigned long long x : 40; unsigned long long y : 30; })
BITF(lay_bf5, x) BITF(lay_bf5, y)
LAYOUT(lay_bf6, struct lay_bf6 { short a : 9; short b : 9; char c; })
BITF(lay_bf6, a) BITF(lay_bf6, b)
LAYOUT(lay_bf7, struct lay_bf7 { _Bool f : 1; unsigned m : 2; int : 3; unsigned n : 4; })
BITF(lay_bf7, f) BITF(lay_bf7, m) BITF(lay_bf7, n)
LAYOUT(lay_bf8, struct lay_bf8 { char c; int a : 20; })
BITF(lay_bf8, a)
LAYOUT(lay_bf9, struct lay_bf9 { int a : 30; int b : 4; })
BITF(lay_bf9, a) BITF(lay_bf9, b)
LAYOUT(lay_bf10, struct lay_bf10 { double d; unsigned a : 1; })
BITF(lay_bf10, a)
LAYOUT(lay_bf11, struct lay_bf11 { uint8_t a : 4, b : 4; uint8_t c; })
BITF(lay_bf11, a) BITF(lay_bf11, b)
LAYOUT(lay_bfu, union lay_bfu { unsigned a : 3; unsigned b : 7; int i; })
BITF(lay_bfu, a) BITF(lay_bfu, b)
LAYOUT(lay_bfp, struct __attribute__((packed)) lay_bfp { unsigned a : 4; unsigned b : 12; unsigned c : 16; char d; })
BITF(lay_bfp, a) BITF(lay_bfp, b) BITF(lay_bfp, c)
LAYOUT(lay_bfpx, struct __attribute__((packed)) lay_bfpx { unsigned a : 30; unsigned b : 4; })
BITF(lay_bfpx, a) BITF(lay_bfpx, b)
LAYOUT(lay_bfll, struct lay_bfll { char c; long long a : 33; int b : 3; })
BITF(lay_bfll, a) BITF(lay_bfll, b)
LAYOUT(lay_bfanon, struct lay_bfanon { char tag; union { struct { unsigned lo : 4, hi : 4; }; unsigned char byte; }; })
BITF(lay_bfanon, lo) BITF(lay_bfanon, hi)

/* ---- the table --------------------------------------------------------- */
#define FIELDS(T, ...) static const LayoutField T##_f[] = { __VA_ARGS__ };
#define BITS(T, ...) static const LayoutBits T##_b[] = { __VA_ARGS__ };

FIELDS(lay_basic, F(lay_basic, c), F(lay_basic, i), F(lay_basic, d))
FIELDS(lay_tail, F(lay_tail, i), F(lay_tail, c))
FIELDS(lay_chars, F(lay_chars, a), F(lay_chars, b), F(lay_chars, c))
FIELDS(lay_mix, F(lay_mix, a), F(lay_mix, b), F(lay_mix, c), F(lay_mix, d), F(lay_mix, e))
FIELDS(lay_ptrs, F(lay_ptrs, c), F(lay_ptrs, p), F(lay_ptrs, s), F(lay_ptrs, fn))
FIELDS(lay_arrays, F(lay_arrays, tag), F(lay_arrays, s), F(lay_arrays, m), F(lay_arrays, z))
FIELDS(lay_nested, F(lay_nested, a), F(lay_nested, in), F(lay_nested, e), F(lay_nested, bs),
       F(lay_nested, f))
FIELDS(lay_deep, F(lay_deep, mid), F(lay_deep, z))
FIELDS(lay_fixed, F(lay_fixed, a), F(lay_fixed, b), F(lay_fixed, c), F(lay_fixed, d),
       F(lay_fixed, e), F(lay_fixed, f))
FIELDS(lay_withbool, F(lay_withbool, a), F(lay_withbool, b), F(lay_withbool, c))
FIELDS(lay_ld, F(lay_ld, c), F(lay_ld, ld), F(lay_ld, s))
FIELDS(lay_cplx, F(lay_cplx, c), F(lay_cplx, z), F(lay_cplx, w))
FIELDS(lay_vecmem, F(lay_vecmem, c), F(lay_vecmem, v), F(lay_vecmem, d))
FIELDS(lay_enums, F(lay_enums, c), F(lay_enums, col), F(lay_enums, d))
FIELDS(lay_wide, F(lay_wide, c), F(lay_wide, w), F(lay_wide, n), F(lay_wide, d))
FIELDS(lay_union, F(lay_union, c), F(lay_union, i), F(lay_union, d))
FIELDS(lay_unarr, F(lay_unarr, b), F(lay_unarr, i))
FIELDS(lay_instu, F(lay_instu, tag), F(lay_instu, u), F(lay_instu, s))
FIELDS(lay_anonu, F(lay_anonu, tag), F(lay_anonu, i), F(lay_anonu, d), F(lay_anonu, after))
FIELDS(lay_anons, F(lay_anons, a), F(lay_anons, b), F(lay_anons, c), F(lay_anons, d),
       F(lay_anons, e))
FIELDS(lay_anonnest, F(lay_anonnest, first), F(lay_anonnest, x), F(lay_anonnest, y),
       F(lay_anonnest, y1), F(lay_anonnest, y2), F(lay_anonnest, y3), F(lay_anonnest, last))
FIELDS(lay_packed, F(lay_packed, c), F(lay_packed, i), F(lay_packed, d), F(lay_packed, s))
FIELDS(lay_packed2, F(lay_packed2, c), F(lay_packed2, i), F(lay_packed2, s))
FIELDS(lay_mempacked, F(lay_mempacked, c), F(lay_mempacked, i), F(lay_mempacked, s))
FIELDS(lay_al16, F(lay_al16, i))
FIELDS(lay_malign, F(lay_malign, c), F(lay_malign, i), F(lay_malign, d))
FIELDS(lay_malign32, F(lay_malign32, c), F(lay_malign32, d))
FIELDS(lay_hasal, F(lay_hasal, c), F(lay_hasal, a), F(lay_hasal, d))
FIELDS(lay_packal, F(lay_packal, c), F(lay_packal, i), F(lay_packal, d))
FIELDS(lay_pack1, F(lay_pack1, c), F(lay_pack1, i), F(lay_pack1, d), F(lay_pack1, s))
FIELDS(lay_pack2, F(lay_pack2, c), F(lay_pack2, i), F(lay_pack2, d), F(lay_pack2, e))
FIELDS(lay_pack4, F(lay_pack4, c), F(lay_pack4, d), F(lay_pack4, l), F(lay_pack4, e))
FIELDS(lay_pack8, F(lay_pack8, c), F(lay_pack8, d), F(lay_pack8, s))
FIELDS(lay_pack2n, F(lay_pack2n, c), F(lay_pack2n, b), F(lay_pack2n, s))
FIELDS(lay_flex, F(lay_flex, n), F(lay_flex, d))
FIELDS(lay_flex2, F(lay_flex2, d), F(lay_flex2, c), F(lay_flex2, s))
FIELDS(lay_flex3, F(lay_flex3, c), F(lay_flex3, a))
FIELDS(lay_zero, F(lay_zero, n), F(lay_zero, data))
FIELDS(lay_old, F(lay_old, n), F(lay_old, data))
FIELDS(lay_hasempty, F(lay_hasempty, c), F(lay_hasempty, e), F(lay_hasempty, i))
FIELDS(lay_bf3, F(lay_bf3, x))
FIELDS(lay_bf6, F(lay_bf6, c))
FIELDS(lay_bf8, F(lay_bf8, c))
FIELDS(lay_bf10, F(lay_bf10, d))
FIELDS(lay_bf11, F(lay_bf11, c))
FIELDS(lay_bfu, F(lay_bfu, i))
FIELDS(lay_bfp, F(lay_bfp, d))
FIELDS(lay_bfll, F(lay_bfll, c))
FIELDS(lay_bfanon, F(lay_bfanon, tag), F(lay_bfanon, byte))

BITS(lay_bf1, B(lay_bf1, a), B(lay_bf1, b), B(lay_bf1, c), B(lay_bf1, d))
BITS(lay_bf2, B(lay_bf2, a), B(lay_bf2, b), B(lay_bf2, c))
BITS(lay_bf3, B(lay_bf3, a), B(lay_bf3, b))
BITS(lay_bf4, B(lay_bf4, a), B(lay_bf4, b))
BITS(lay_bf5, B(lay_bf5, x), B(lay_bf5, y))
BITS(lay_bf6, B(lay_bf6, a), B(lay_bf6, b))
BITS(lay_bf7, B(lay_bf7, f), B(lay_bf7, m), B(lay_bf7, n))
BITS(lay_bf8, B(lay_bf8, a))
BITS(lay_bf9, B(lay_bf9, a), B(lay_bf9, b))
BITS(lay_bf10, B(lay_bf10, a))
BITS(lay_bf11, B(lay_bf11, a), B(lay_bf11, b))
BITS(lay_bfu, B(lay_bfu, a), B(lay_bfu, b))
BITS(lay_bfp, B(lay_bfp, a), B(lay_bfp, b), B(lay_bfp, c))
BITS(lay_bfpx, B(lay_bfpx, a), B(lay_bfpx, b))
BITS(lay_bfll, B(lay_bfll, a), B(lay_bfll, b))
BITS(lay_bfanon, B(lay_bfanon, lo), B(lay_bfanon, hi))

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define E0(T) { #T, T##_decl, sizeof(T), _Alignof(T), NULL, 0, NULL, 0 }
#define EF(T) { #T, T##_decl, sizeof(T), _Alignof(T), T##_f, N(T##_f), NULL, 0 }
#define EB(T) { #T, T##_decl, sizeof(T), _Alignof(T), NULL, 0, T##_b, N(T##_b) }
#define EFB(T) { #T, T##_decl, sizeof(T), _Alignof(T), T##_f, N(T##_f), T##_b, N(T##_b) }

static const LayoutFact layout_tab[] = {
  E0(lay_char), E0(lay_schar), E0(lay_uchar), E0(lay_short), E0(lay_ushort),
  E0(lay_int), E0(lay_uint), E0(lay_long), E0(lay_ulong), E0(lay_llong),
  E0(lay_ullong), E0(lay_float), E0(lay_double), E0(lay_ldouble), E0(lay_bool),
  E0(lay_voidp), E0(lay_ccharpp), E0(lay_size), E0(lay_ptrdiff), E0(lay_intptr),
  E0(lay_uintptr), E0(lay_wchar), E0(lay_i8), E0(lay_u16), E0(lay_i32),
  E0(lay_u64), E0(lay_cfloat), E0(lay_cdouble), E0(lay_fnptr), E0(lay_arr2d),
  E0(lay_arr7), E0(lay_v4si), E0(lay_v2sf),
  EF(lay_basic), EF(lay_tail), EF(lay_chars), EF(lay_mix), EF(lay_ptrs),
  EF(lay_arrays), EF(lay_nested), EF(lay_deep), EF(lay_fixed), EF(lay_withbool),
  EF(lay_ld), EF(lay_cplx), EF(lay_vecmem), EF(lay_enums), E0(lay_uenum),
  E0(lay_negenum), EF(lay_wide),
  EF(lay_union), EF(lay_unarr), EF(lay_instu), EF(lay_anonu), EF(lay_anons),
  EF(lay_anonnest),
  EF(lay_packed), EF(lay_packed2), EF(lay_mempacked), EF(lay_al16), EF(lay_malign),
  EF(lay_malign32), EF(lay_hasal), EF(lay_packal),
  EF(lay_pack1), EF(lay_pack2), EF(lay_pack4), EF(lay_pack8), EF(lay_pack2n),
  EF(lay_flex), EF(lay_flex2), EF(lay_flex3), EF(lay_zero), EF(lay_old),
  E0(lay_empty), EF(lay_hasempty),
  EB(lay_bf1), EB(lay_bf2), EFB(lay_bf3), EB(lay_bf4), EB(lay_bf5), EFB(lay_bf6),
  EB(lay_bf7), EFB(lay_bf8), EB(lay_bf9), EFB(lay_bf10), EFB(lay_bf11), EFB(lay_bfu),
  EFB(lay_bfp), EB(lay_bfpx), EFB(lay_bfll), EFB(lay_bfanon),
};

#define LAYOUT_API __attribute__((visibility("default")))

static const LayoutFact *layout_get(int i)
{
  return (i >= 0 && i < N(layout_tab)) ? &layout_tab[i] : NULL;
}

LAYOUT_API int layout_count(void) { return N(layout_tab); }

LAYOUT_API const char *layout_name(int i)
{
  const LayoutFact *t = layout_get(i);
  return t ? t->name : NULL;
}

LAYOUT_API const char *layout_decl(int i)
{
  const LayoutFact *t = layout_get(i);
  return t ? t->decl : NULL;
}

LAYOUT_API size_t layout_size(int i)
{
  const LayoutFact *t = layout_get(i);
  return t ? t->size : 0;
}

LAYOUT_API size_t layout_align(int i)
{
  const LayoutFact *t = layout_get(i);
  return t ? t->align : 0;
}

LAYOUT_API int layout_nfields(int i)
{
  const LayoutFact *t = layout_get(i);
  return t ? t->nf : 0;
}

LAYOUT_API const char *layout_field(int i, int j)
{
  const LayoutFact *t = layout_get(i);
  return (t && j >= 0 && j < t->nf) ? t->f[j].name : NULL;
}

LAYOUT_API size_t layout_offset(int i, int j)
{
  const LayoutFact *t = layout_get(i);
  return (t && j >= 0 && j < t->nf) ? t->f[j].off : (size_t)-1;
}

LAYOUT_API int layout_nbits(int i)
{
  const LayoutFact *t = layout_get(i);
  return t ? t->nb : 0;
}

LAYOUT_API const char *layout_bitname(int i, int j)
{
  const LayoutFact *t = layout_get(i);
  return (t && j >= 0 && j < t->nb) ? t->b[j].name : NULL;
}

/* Bytes of a zeroed object of type i after setting bitfield j to all ones;
** returns the object size, or -1. out must hold layout_size(i) bytes. */
LAYOUT_API int layout_bitpattern(int i, int j, unsigned char *out)
{
  const LayoutFact *t = layout_get(i);
  unsigned char buf[64] __attribute__((aligned(16)));
  if (!t || j < 0 || j >= t->nb || t->size > sizeof buf) return -1;
  memset(buf, 0, sizeof buf);
  t->b[j].set(buf);
  memcpy(out, buf, t->size);
  return (int)t->size;
}

/* The value C reads back from bitfield j after setting it to all ones:
** -1 for a signed field, 2^width-1 for an unsigned one, 1 for _Bool. */
LAYOUT_API long long layout_bitvalue(int i, int j)
{
  const LayoutFact *t = layout_get(i);
  unsigned char buf[64] __attribute__((aligned(16)));
  if (!t || j < 0 || j >= t->nb || t->size > sizeof buf) return 0;
  memset(buf, 0, sizeof buf);
  t->b[j].set(buf);
  return t->b[j].get(buf);
}

/* Value of bitfield j read by C from the object at p (written by Lua). */
LAYOUT_API long long layout_bitread(int i, int j, const void *p)
{
  const LayoutFact *t = layout_get(i);
  unsigned char buf[64] __attribute__((aligned(16)));
  if (!t || j < 0 || j >= t->nb || t->size > sizeof buf) return 0;
  memcpy(buf, p, t->size);
  return t->b[j].get(buf);
}

/* ---- helpers for cdata_spec ------------------------------------------- */
LAYOUT_API void *layout_stdout(void) { return stdout; }
LAYOUT_API int layout_is_stdout(FILE *f) { return f == stdout; }

/* C memory holding a NULL pointer and a non-NULL one. */
typedef struct layout_holder { int *null; int *some; int value; } layout_holder;
static int layout_some_int = 42;
LAYOUT_API void *layout_holder_get(void)
{
  static const layout_holder h = { NULL, &layout_some_int, 7 };
  return (void *)&h;
}

/* Reads the bytes of a C string the spec passes as a char array. */
LAYOUT_API size_t layout_strlen(const char *s) { return s ? strlen(s) : (size_t)-1; }

/* ---- independent lua_States for state_spec ----------------------------
** The interpreter running the specs already has the Lua API (lua5.4 exports
** it); take it from the global scope so the new states and cffi.so share the
** one copy of Lua.  No Lua headers: the few prototypes are restated. */
typedef struct lua_State lua_State;
typedef int (*layout_cfn)(lua_State *);
typedef struct LayoutLuaAPI {
  lua_State *(*newstate)(void);
  void (*openlibs)(lua_State *);
  void (*requiref)(lua_State *, const char *, layout_cfn, int);
  int (*loadstring)(lua_State *, const char *);
  int (*pcallk)(lua_State *, int, int, int, intptr_t, void *);
  const char *(*tolstring)(lua_State *, int, size_t *);
  void (*settop)(lua_State *, int);
  void (*close)(lua_State *);
  int (*gettop)(lua_State *);
} LayoutLuaAPI;

static int layout_api(LayoutLuaAPI *a)
{
  a->newstate = (lua_State *(*)(void))dlsym(RTLD_DEFAULT, "luaL_newstate");
  a->openlibs = (void (*)(lua_State *))dlsym(RTLD_DEFAULT, "luaL_openlibs");
  a->requiref = (void (*)(lua_State *, const char *, layout_cfn, int))
                dlsym(RTLD_DEFAULT, "luaL_requiref");
  a->loadstring = (int (*)(lua_State *, const char *))dlsym(RTLD_DEFAULT, "luaL_loadstring");
  a->pcallk = (int (*)(lua_State *, int, int, int, intptr_t, void *))
              dlsym(RTLD_DEFAULT, "lua_pcallk");
  a->tolstring = (const char *(*)(lua_State *, int, size_t *))
                 dlsym(RTLD_DEFAULT, "luaL_tolstring");
  a->settop = (void (*)(lua_State *, int))dlsym(RTLD_DEFAULT, "lua_settop");
  a->close = (void (*)(lua_State *))dlsym(RTLD_DEFAULT, "lua_close");
  a->gettop = (int (*)(lua_State *))dlsym(RTLD_DEFAULT, "lua_gettop");
  return a->newstate && a->openlibs && a->requiref && a->loadstring && a->pcallk &&
         a->tolstring && a->settop && a->close && a->gettop;
}

/* A new lua_State with the standard libraries and cffi (luaopen_cffi of the
** shared object at path, which the caller has loaded already) preloaded as
** package.loaded.cffi.  NULL when something is missing. */
LAYOUT_API void *layout_state_new(const char *path)
{
  LayoutLuaAPI a;
  void *h;
  layout_cfn open;
  lua_State *L;
  if (!layout_api(&a)) return NULL;
  h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (!h) h = dlopen(path, RTLD_NOW);
  if (!h) return NULL;
  open = (layout_cfn)dlsym(h, "luaopen_cffi");
  /* h stays open: the new state's cdata and closures point into it */
  if (!open) return NULL;
  L = a.newstate();
  if (!L) return NULL;
  a.openlibs(L);
  a.requiref(L, "cffi", open, 0);
  a.settop(L, 0);
  return L;
}

/* Run chunk in state L; returns tostring of its first result, or the error
** message (the spec wraps its chunks in pcall to tell them apart).  The
** string lives until the next call on L. */
LAYOUT_API const char *layout_state_run(void *L, const char *chunk)
{
  LayoutLuaAPI a;
  int st;
  if (!L || !layout_api(&a)) return "error: no state";
  a.settop(L, 0);
  st = a.loadstring(L, chunk);
  if (st == 0) st = a.pcallk(L, 0, 1, 0, 0, NULL);
  if (st != 0) return a.tolstring(L, -1, NULL);  /* the error message */
  return a.tolstring(L, 1, NULL);
}

LAYOUT_API void layout_state_close(void *L)
{
  LayoutLuaAPI a;
  if (L && layout_api(&a)) a.close(L);
}
