/*
** cffi.h: internal types shared by every file of the cffi module, and the
** functions each file exports to the others.  Only luaopen_cffi leaves the
** shared object (-fvisibility=hidden).
**
** Ownership: each section below belongs to one .c file.  A file adds its own
** exported prototypes only to its own section.
*/
#ifndef CFFI_H
#define CFFI_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#define CFFI_EXPORT __attribute__((visibility("default")))

/* Everything declared after this is internal, whatever flags a build uses
** (the rock's builtin build passes no -fvisibility). */
#pragma GCC visibility push(hidden)

typedef uint32_t CTypeID;          /* index into the type table; 0 = none */

/* ======================================================================
** Type table (ctype.c): plain C, never touches a lua_State.
** ====================================================================== */

/* Kinds of type. */
enum {
  CT_VOID, CT_BOOL, CT_INT, CT_FLOAT, CT_COMPLEX, CT_VECTOR,
  CT_PTR, CT_REF, CT_ARRAY, CT_STRUCT, CT_UNION, CT_ENUM, CT_FUNC
};

/*
** Type flags.  Qualifiers are never a type of their own: CTF_CONST and
** CTF_VOLATILE on a CT_PTR / CT_REF mean "the pointee is qualified", on a
** CT_ARRAY "the elements are qualified".  A qualified top-level object
** (a const variable, a const member, a typedef of const T) carries the
** qualifier beside the type id (CName.quals, CField.flags CFF_CONST).
*/
#define CTF_CONST      0x0001u
#define CTF_VOLATILE   0x0002u
#define CTF_QUALS      (CTF_CONST|CTF_VOLATILE)
#define CTF_UNSIGNED   0x0004u  /* CT_INT, CT_ENUM (underlying type unsigned) */
#define CTF_CHAR       0x0008u  /* CT_INT: plain `char` (size 1) */
#define CTF_LONG       0x0010u  /* CT_INT spelled `long`; CT_FLOAT long double */
#define CTF_VARIADIC   0x0020u  /* CT_FUNC: trailing `...` */
#define CTF_VLA        0x0040u  /* CT_ARRAY `T[?]`; struct whose last member is `[?]` (VLS) */
#define CTF_INCOMPLETE 0x0080u  /* size unknown: void, forward struct/union/enum, `T[]` */
#define CTF_FLEX       0x0100u  /* struct/union whose last member is `[]` or `[0]` */
#define CTF_PACKED     0x0200u  /* struct/union declared packed or under #pragma pack */
#define CTF_METATYPE   0x0400u  /* struct/union has an ffi.metatype (set by ctypeobj.c) */
#define CTF_VALIST     0x0800u  /* CT_PTR standing for va_list (prints "va_list") */
#define CTF_WCHAR      0x1000u  /* CT_INT spelled wchar_t (for printing only) */

/* A type record.  Read it with ctype_get; never keep the pointer across a
** call that can add types. */
typedef struct CType {
  uint8_t kind;        /* CT_* */
  uint8_t pad_;
  uint16_t flags;      /* CTF_* */
  CTypeID child;       /* pointee, element, return type, enum underlying int */
  size_t size;         /* bytes; 0 with CTF_INCOMPLETE; VLA: 0 */
  uint32_t align;      /* bytes (a power of two) */
  uint32_t nfield;     /* fields (struct/union), constants (enum), params (func) */
  uint32_t field;      /* index of the first of them in CTState.fields */
  size_t count;        /* CT_ARRAY / CT_VECTOR element count (0 for VLA, []) */
  const char *name;    /* tag of a struct/union/enum, NULL when anonymous */
  CTypeID next;        /* interning hash chain (ctype.c's business) */
} CType;

/* Field flags. */
#define CFF_BITFIELD   0x0001u  /* bitpos/bitsize are valid (bitsize may be 0) */
#define CFF_ANON       0x0002u  /* unnamed struct/union member: its members are
                                   reachable directly (transparent) */
#define CFF_CONST      0x0004u  /* member declared const: cannot be assigned */
#define CFF_VOLATILE   0x0008u
#define CFF_CONSTVAL   0x0010u  /* `static const` member of a struct, or an enum
                                   constant: `value` is its value, no storage */
#define CFF_PACKED     0x0020u  /* member has __attribute__((packed)) */

/*
** A struct/union member, a function parameter or an enum constant.
** Bitfields: `offset` is the byte holding the field's lowest bit,
** `bitpos` the bit within that byte (0..7, little-endian numbering),
** `bitsize` the width; the value spans ceil((bitpos+bitsize)/8) bytes.
*/
typedef struct CField {
  const char *name;    /* interned with ctype_str; NULL when unnamed */
  CTypeID type;
  uint32_t flags;      /* CFF_* */
  uint32_t attralign;  /* member __attribute__((aligned(N))), 0 when none */
  uint32_t bitpos, bitsize;
  size_t offset;       /* byte offset inside the struct (0 for unions) */
  int64_t value;       /* CFF_CONSTVAL value */
} CField;

/* Kinds of declared names. */
enum { CN_TYPEDEF = 1, CN_FUNC, CN_VAR, CN_CONST, CN_TAG };

/* A declared name.  Ordinary names (typedefs, functions, variables,
** constants: enum constants, static const, #define) share one namespace;
** struct/union/enum tags (CN_TAG) another. */
typedef struct CName {
  const char *name;    /* interned */
  uint32_t kind;       /* CN_* */
  CTypeID type;        /* typedef target, function type, variable type,
                          constant's type (int, or the enum), tag's type */
  uint32_t quals;      /* CTF_CONST/CTF_VOLATILE of a typedef or variable */
  int64_t value;       /* CN_CONST */
  const char *sym;     /* __asm__("sym") redirection, NULL when none */
  uint32_t next;       /* hash chain (ctype.c's business) */
} CName;

struct CTArena;
struct CLibState;
struct CCallState;
struct CCbState;

/* The per-lua_State context.  No global mutable C state exists. */
typedef struct CTState {
  CType *tab;          /* the type table; id 0 unused */
  uint32_t ntab, sztab;
  CField *fields;
  uint32_t nfields, szfields;
  CTypeID *thash;      /* interning buckets (ctype.c) */
  uint32_t thashsize;
  CName *names;        /* names[0] unused */
  uint32_t nnames, sznames;
  uint32_t *nhash;     /* name buckets (ctype.c) */
  uint32_t nhashsize;
  struct CTArena *arena;   /* interned strings, freed with the state */
  void *txn;           /* open cdef transaction (ctype.c) or NULL */
  unsigned pack;       /* current #pragma pack value, 0 = default */
  unsigned packstack[16];
  int npack;
  /* cdata.c */
  const void *cdmt;    /* lua_topointer of the cdata metatable */
  const void *cdmtgc;  /* ... of the one with __gc */
  int cdref[4];        /* registry refs (integer keys: one cheap lua_rawgeti)
                          of the tables cdata.c's hot paths use */
  /* ctypeobj.c */
  const void *ctmt;    /* lua_topointer of the ctype-object metatable */
  int ctref[8];        /* registry refs, as cdref, of ctypeobj.c's tables */
  void *tcfront;       /* type-string front cache (Lua-owned) */
  void *ctset;         /* set of ctype-object addresses (Lua-owned) */
  uint32_t nctset, szctset;
  /* ccall.c */
  struct CCallState *call;
  lua_State *curL;     /* thread of the C call in progress (callbacks run on it) */
  int errno_val;       /* errno saved after the last call / set by ffi.errno */
  /* ccallback.c */
  struct CCbState *cb;
  int cb_error;        /* a callback caught an error: ccallback_raise must run */
  /* clib.c */
  struct CLibState *lib;
} CTState;

/* Fixed ids of the primitive types, registered by ctype_newstate. */
enum {
  CTID_NONE, CTID_VOID, CTID_BOOL,
  CTID_CHAR, CTID_SCHAR, CTID_UCHAR,         /* char, signed char/int8_t, unsigned char/uint8_t */
  CTID_SHORT, CTID_USHORT,                   /* int16_t, uint16_t */
  CTID_INT, CTID_UINT,                       /* int32_t, uint32_t */
  CTID_LONG, CTID_ULONG,                     /* long, unsigned long (size_t) */
  CTID_INT64, CTID_UINT64,                   /* long long/int64_t, unsigned long long/uint64_t */
  CTID_FLOAT, CTID_DOUBLE, CTID_LDOUBLE,
  CTID_CFLOAT, CTID_CDOUBLE,                 /* complex float, complex double */
  CTID_WCHAR,                                /* wchar_t (int on x86-64, unsigned on aarch64) */
  CTID_VOIDP,                                /* void * */
  CTID_CVOIDP,                               /* const void * */
  CTID_CHARP,                                /* char * */
  CTID_CCHARP,                               /* const char * */
  CTID_VALIST,                               /* va_list: opaque, pointer-sized */
  CTID_FIRSTFREE
};

/* Layout and identity. */
CTState *ctype_newstate(void);             /* NULL when out of memory */
void ctype_freestate(CTState *S);          /* frees S itself too */
#define ctype_get(S, id)   (&(S)->tab[(id)])
#define ctype_field(S, ct, i)  (&(S)->fields[(ct)->field + (i)])
const char *ctype_str(CTState *S, const char *s, size_t len);  /* intern; NULL on OOM */

/* Derived types, interned: equal arguments give the same id.  Each returns
** 0 only when out of memory (ctype_array also when n * elemsize overflows). */
CTypeID ctype_ptr(CTState *S, CTypeID to, unsigned quals);
CTypeID ctype_ref(CTState *S, CTypeID to, unsigned quals);
CTypeID ctype_array(CTState *S, CTypeID elem, size_t n, unsigned flags);
        /* flags: quals of the elements, CTF_VLA for [?], CTF_INCOMPLETE for [] */
CTypeID ctype_vector(CTState *S, CTypeID elem, size_t bytes);
CTypeID ctype_func(CTState *S, CTypeID ret, const CField *params, uint32_t n,
                   unsigned flags);        /* flags: CTF_VARIADIC */

/* Records (struct/union/enum) are never interned: each definition is a new
** id.  ctype_newrecord makes an incomplete one; ctype_setfields /
** ctype_setenum complete it (also a forward-declared one, in place).
** Layout follows gcc on the build machine: natural alignment, bitfield
** packing, packed (pack > 0 caps member alignment; CTF_PACKED = pack 1),
** attralign raises the record's alignment.  Return 0, or -1 with a message
** in err (at least 128 bytes). */
CTypeID ctype_newrecord(CTState *S, int kind, const char *tag);
int ctype_setfields(CTState *S, CTypeID id, const CField *f, uint32_t n,
                    unsigned pack, unsigned attralign, unsigned flags, char *err);
int ctype_setenum(CTState *S, CTypeID id, const CField *consts, uint32_t n,
                  char *err);              /* picks int or unsigned int */

/* Field lookup in a struct/union, through transparent members.  Fills *out
** with the field, offset made relative to the outer record; returns 1 when
** found, 0 when not. */
int ctype_findfield(CTState *S, CTypeID rec, const char *name, size_t len,
                    CField *out);

/* Sizes.  ctype_vlsize: bytes of a VLA `T[?]` / VLS instance with n
** elements in its variable part (VLS: the struct's size + n * element size,
** as LuaJIT); (size_t)-1 on overflow; other types: their size. */
size_t ctype_vlsize(CTState *S, CTypeID id, size_t n);

/* C spelling of a type into buf ("int *", "struct foo", "int (*)(int, int)",
** "int[10]", "int[?]"), truncated to bufsz.  Returns buf. */
char *ctype_repr(CTState *S, CTypeID id, char *buf, size_t bufsz);

/* Names.  ctype_declare returns 0 when added, 1 when an identical
** declaration existed (nothing changes), -1 on a conflicting redeclaration,
** -2 when out of memory. */
const CName *ctype_lookup(CTState *S, const char *name, size_t len);
CTypeID ctype_lookuptag(CTState *S, int kind, const char *tag, size_t len);
int ctype_declare(CTState *S, const CName *n);
int ctype_declaretag(CTState *S, int kind, const char *tag, CTypeID id);

/* Transactions: everything ctype_* adds or changes between begin and
** rollback is undone (types, fields, names, completed records, pragma pack). */
int ctype_begin(CTState *S);               /* -2 on OOM; nested begins only count */
void ctype_commit(CTState *S);
void ctype_rollback(CTState *S);

/* Small predicates, used everywhere. */
#define ctype_isint(ct)    ((ct)->kind == CT_INT || (ct)->kind == CT_BOOL || (ct)->kind == CT_ENUM)
#define ctype_isnum(ct)    (ctype_isint(ct) || (ct)->kind == CT_FLOAT)
#define ctype_isptr(ct)    ((ct)->kind == CT_PTR)
#define ctype_isrecord(ct) ((ct)->kind == CT_STRUCT || (ct)->kind == CT_UNION)
#define ctype_isagg(ct)    (ctype_isrecord(ct) || (ct)->kind == CT_ARRAY || (ct)->kind == CT_COMPLEX || (ct)->kind == CT_VECTOR)
int ctype_isfuncptr(CTState *S, CTypeID id);   /* pointer to CT_FUNC */
/* Structural identity: 1 when a and b are the same type, or two definitions
** of a record with the same tag, fields, layout and member types (nested
** anonymous records compared the same way).  For accepting an identical
** redefinition: ctype_declare / ctype_declaretag already use it, so an
** identical `typedef struct {...} T;` or tag redefinition answers 1. */
int ctype_same(CTState *S, CTypeID a, CTypeID b);

/* ======================================================================
** Parser (cparse.c): plain C, never raises.  Its lexer (clex.c) serves
** no other file: its interface is the private header src/clex.h.
** ====================================================================== */

/* An argument substituted for a `$` in a declaration or type string. */
enum { CPP_TYPE = 1, CPP_INT, CPP_NAME };
typedef struct CPParam {
  int kind;            /* CPP_* */
  CTypeID type;        /* CPP_TYPE */
  int64_t n;           /* CPP_INT */
  const char *s;       /* CPP_NAME: identifier (not necessarily NUL-terminated) */
  size_t len;
} CPParam;

typedef struct CPError {
  int line;            /* 1-based line of the offending token */
  char token[64];      /* the offending token as written ("<eof>" at end) */
  char msg[256];       /* e.g. "';' expected near 'int'" (no "cdef:N:" prefix) */
} CPError;

/* Parse and register the declarations in src.  Returns 0, or -1 with err
** filled; a failed call leaves the state exactly as before. */
int cparse_cdef(CTState *S, const char *src, size_t len,
                const CPParam *params, int nparams, CPError *err);
/* Parse an abstract type name ("int *", "struct foo[?]", "int (*)(int)").
** Returns 0 with *out set, or -1 with err filled. */
int cparse_type(CTState *S, const char *src, size_t len,
                const CPParam *params, int nparams, CTypeID *out, CPError *err);

/* ======================================================================
** The cdata userdata (cdata.c).
** ====================================================================== */

#define CDF_REF       0x0001u  /* payload holds a pointer to the value (a reference
                                  into a parent, kept alive by user value 1) */
#define CDF_NOBOUNDS  0x0002u  /* array reference not bounds-checked ([0]/[1] last member) */
#define CDF_CALLBACK  0x0004u  /* function pointer created by ccallback.c */
#define CDF_FUNC      0x0008u  /* CT_FUNC value behind a library closure; user value 1: library */
#define CDF_CONST     0x0010u  /* reference to a const object: no assignment */

/* A cdata: this header, then the value at (char *)cd + off.  The value's size
** is lua_rawlen(ud) - off - pad_ (so VLA/VLS instances know their length):
** use cdata_size.  A reference's id is the referenced type (not a CT_REF).
** A CT_FUNC cdata holds the function address, in the payload itself or (with
** CDF_REF) through it: cdata.c and cconv.c read both forms. */
typedef struct CData {
  CTypeID id;
  uint16_t flags;      /* CDF_* */
  uint8_t off;         /* offset of the value from the header (> 8 when the
                          type needs 16-byte or larger alignment) */
  uint8_t pad_;        /* alignment slack after the value */
} CData;

#define cdata_payload(cd)  ((void *)((char *)(cd) + (cd)->off))
#define cdata_ptr(cd) (((cd)->flags & CDF_REF) ? *(void **)cdata_payload(cd) : cdata_payload(cd))

/* Push a new zero-filled cdata of type id with `size` bytes of value (the
** type's size, or ctype_vlsize for VLA/VLS).  Uses the finalising metatable
** when the type's metatype has __gc. */
CData *cdata_new(lua_State *L, CTState *S, CTypeID id, size_t size);
/* Push a reference cdata of type id to p; the value at stack index parent
** (0: none) is kept alive as long as the reference. */
CData *cdata_newref(lua_State *L, CTState *S, CTypeID id, void *p, int parent,
                    unsigned flags);
/* Push a pointer cdata of pointer type id holding p (NULL stays a cdata). */
void cdata_pushptr(lua_State *L, CTState *S, CTypeID id, void *p);
/* The cdata at idx, or NULL.  Also recognises library function closures and
** answers their function cdata. */
CData *cdata_test(lua_State *L, CTState *S, int idx);
CData *cdata_check(lua_State *L, CTState *S, int idx);  /* error if not cdata */
size_t cdata_size(lua_State *L, int idx);   /* bytes of the value of the cdata at idx */
/* The address a function cdata stands for (stored as a reference or not). */
void *cdata_funcaddr(CData *cd);
/* Push metamethod `name` of the metatype of id (a struct/union, or a
** pointer to one).  Returns 0 (nothing pushed) when there is none. */
int cdata_getmm(lua_State *L, CTState *S, CTypeID id, const char *name);
/* ffi.new of type id (named by slot 1) with the arguments after slot 1:
** pushes the new cdata (a callback for a function pointer and a Lua
** function) and returns 1.  The ctype objects' __call. */
int cdata_newof(lua_State *L, CTState *S, CTypeID id);
/* Is the size of type id unknown (incomplete, void, a function, an array
** of such)?  VLA / VLS are not: their size comes with the instance. */
int cdata_unsized(CTState *S, CTypeID id);
/* An integer key or count at idx: a Lua number (truncated) or an integer
** cdata.  1 with *out set, 0 for anything else. */
int cdata_intkey(lua_State *L, CTState *S, int idx, int64_t *out);
/* Raise "'T' has no member named 'K'" (or "cannot be indexed with") for
** the key at stack index key of type id. */
int cdata_errmember(lua_State *L, CTState *S, CTypeID id, int key);

/* The rest of ffi.* that concerns cdata (lcffi.c checks arity and calls). */
int cdata_open(lua_State *L, CTState *S, int stateidx);  /* metatables */
int cdata_ffi_new(lua_State *L, CTState *S);      /* ffi.new(ct [,nelem] [,init...]) */
int cdata_ffi_cast(lua_State *L, CTState *S);
int cdata_ffi_gc(lua_State *L, CTState *S);
int cdata_ffi_string(lua_State *L, CTState *S);
int cdata_ffi_copy(lua_State *L, CTState *S);
int cdata_ffi_fill(lua_State *L, CTState *S);
int cdata_ffi_tonumber(lua_State *L, CTState *S);

/* ======================================================================
** ctype objects and type arguments (ctypeobj.c).
** ====================================================================== */

/* Push the ctype object of id (what ffi.typeof returns): one per id per
** state, so `==` and use as a table key work. */
void ctypeobj_push(lua_State *L, CTState *S, CTypeID id);
/* A "ct" argument: a type string (cached parse), a ctype object, a cdata (its
** type) or a library function.  `$` parameters in a string are taken from
** stack slots idx+1 .. top (one per `$`); *nused is set to how many were
** used.  Pass nused NULL when none are allowed.  Errors name the ffi
** function fname ("bad argument #1 to 'new' ..."; NULL: as luaL_argerror). */
CTypeID ctypeobj_check(lua_State *L, CTState *S, int idx, int *nused,
                       const char *fname);
/* Turn Lua values at [first, last] into `$` parameters (ctype/cdata: type,
** number: CPP_INT, string: CPP_NAME).  Raises on other values. */
int ctypeobj_params(lua_State *L, CTState *S, int first, int last, CPParam *out, int max);

/* The ffi.* functions about types (lcffi.c checks arity and calls). */
int ctypeobj_open(lua_State *L, CTState *S, int stateidx);  /* metatable, caches */
int ctypeobj_ffi_typeof(lua_State *L, CTState *S);
int ctypeobj_ffi_metatype(lua_State *L, CTState *S);
int ctypeobj_ffi_sizeof(lua_State *L, CTState *S);
int ctypeobj_ffi_alignof(lua_State *L, CTState *S);
int ctypeobj_ffi_offsetof(lua_State *L, CTState *S);
int ctypeobj_ffi_istype(lua_State *L, CTState *S);

/* ======================================================================
** Arithmetic (carith.c): arithmetic and comparison of cdata.
** ====================================================================== */

/* base + i * esz, wrapping like the machine (no signed overflow in C):
** pointer arithmetic and indexing. */
#define carith_offset(base, i, esz) \
  ((char *)((uintptr_t)(base) + (uintptr_t)((uint64_t)(i) * (uint64_t)(esz))))
/* Set the operator metamethods (__add .. __bnot, __eq, __lt, __le,
** __concat) in the cdata metatable at the top of the stack, as closures
** over the state userdata at stateidx. */
void carith_open(lua_State *L, int stateidx);

/* ======================================================================
** Conversions (cconv.c): the only place a Lua value becomes C or back.
** ====================================================================== */

#define CCF_CAST    0x0001u  /* explicit ffi.cast: pointer<->integer, any pointer */
#define CCF_ARG     0x0002u  /* call argument: strings to char/void pointers,
                                Lua functions to implicit callbacks */
#define CCF_INIT    0x0004u  /* ffi.new / field initialiser: tables for aggregates */
#define CCF_NARG(n) ((unsigned)(n) << 8)   /* argument number for error messages */
#define CCF_GETNARG(f) ((int)((f) >> 8))

/* Convert the Lua value at idx into a C value of type id at dst.  On failure
** raises "cannot convert 'X' to 'Y'" (as "bad argument #N to 'f' (...)" when
** CCF_NARG is given). */
void cconv_tocdata(lua_State *L, CTState *S, CTypeID id, void *dst, int idx,
                   unsigned flags);
/* The same for argument CCF_GETNARG(flags) of the C function fname: errors
** read "bad argument #N to 'fname' (...)" whatever name the caller used
** (a local alias, pcall).  fname NULL: as cconv_tocdata. */
void cconv_toarg(lua_State *L, CTState *S, CTypeID id, void *dst, int idx,
                 unsigned flags, const char *fname);
/* cconv_tocdata into an object whose type leaves its size open (`T[]`,
** `T[?]`, a VLS): size = the bytes really there at dst (a trailing member:
** the instance's size minus the member's offset).  Strings and tables
** fill at most that; a fixed-size type ignores size.  cconv_tocdata gives
** such a destination no room at all: a non-empty string or table for it
** is an error ("cannot convert 'string' to 'char[]'", "too many
** initializers for 'int[?]'"). */
void cconv_tosized(lua_State *L, CTState *S, CTypeID id, void *dst,
                   size_t size, int idx, unsigned flags);
/* Push the C value of type id at src.  Integers up to 64 bits -> Lua integer
** (uint64_t keeps its bits), enums -> integer, floats -> number, bool ->
** boolean, NULL pointers -> nil, other pointers -> cdata, complex / vectors
** -> a boxed copy (as LuaJIT), structs / unions / arrays -> a reference cdata
** into src kept alive by the value at stack index parent, or a copy when
** parent is 0 (a reference without parent when the size is unknown). */
void cconv_tolua(lua_State *L, CTState *S, CTypeID id, void *src, int parent);
/* C value to C value (ffi.cast between cdata, copies, assignments). */
void cconv_ctoc(lua_State *L, CTState *S, CTypeID did, void *dst,
                CTypeID sid, const void *src, unsigned flags);
/* ffi.new initialisers: the n Lua values at [first, first+n) initialise the
** zero-filled object of type id at dst (size bytes, for VLA/VLS). */
void cconv_init(lua_State *L, CTState *S, CTypeID id, void *dst, size_t size,
                int first, int n);
/* Integer view used by arithmetic and indexing: 1 for int/bool/enum (*out:
** the value, uint64_t keeps its bits), 2 for float/complex (*out: truncated
** real part), 0 for anything else. */
int cconv_toint64(CTState *S, CTypeID id, const void *src, int64_t *out);
/* Bitfield read/write. */
int64_t cconv_getbits(const void *base, const CField *f, int issigned);
void cconv_setbits(void *base, const CField *f, int64_t v);
/* The name of the Lua or C type of the value at idx, for messages
** ("string", "cdata<int *>"...), written to buf. */
const char *cconv_typename(lua_State *L, CTState *S, int idx, char *buf, size_t n);
/* Raise "cannot convert 'FROM' to 'TO'" (with CCF_NARG context). */
int cconv_error(lua_State *L, CTState *S, CTypeID to, int idx, unsigned flags);
int cconv_argerror(lua_State *L, CTState *S, CTypeID to, int idx, unsigned flags,
                   const char *fname);     /* naming fname, as cconv_toarg */

/*
** Scalar fast paths for calls and callbacks (ccall.c, ccallback.c).  A
** scalar class says how a value of a type moves; the inline helpers below
** apply cconv's own rules (cconv_conv, cconv_tolua: keep them in step) to
** the common values only and answer "not handled" for everything else,
** which then goes through cconv_toarg / cconv_tocdata / cconv_tolua.
** A register image holds the value in its low bytes: integers extended to
** 64 bits by their signedness, bool 0/1, a float's bits in the low half,
** a double's bits, a pointer.  None of them allocates or raises.
*/
enum {
  CCS_I8, CCS_U8, CCS_I16, CCS_U16, CCS_I32, CCS_U32, CCS_I64, CCS_U64,
  CCS_BOOL, CCS_FLOAT, CCS_DOUBLE,
  CCS_PTR,     /* any pointer: nil is NULL, NULL is nil */
  CCS_STR,     /* char/void pointer as a call argument: Lua strings too */
  CCS_VOID,    /* results only */
  CCS_OTHER    /* no fast rule: cconv decides */
};
/* The class of type id (enums: their integer; flags CCF_ARG: CCS_STR for
** pointers to char-sized integers or void). */
int cconv_sclass(CTState *S, CTypeID id, unsigned flags);

#if defined(__GNUC__)
#define CCONV_INLINE static inline __attribute__((always_inline))
#else
#define CCONV_INLINE static inline
#endif

/* Integer classes: truncate to the width, extend by the signedness. */
#define cconv_extend(cls, u) \
  (((cls) & 1) ? ((uint64_t)(u) << (64 - (8u << ((cls) >> 1)))) >> (64 - (8u << ((cls) >> 1))) \
   : (uint64_t)((int64_t)((uint64_t)(u) << (64 - (8u << ((cls) >> 1)))) >> (64 - (8u << ((cls) >> 1)))))

/* Lua value at idx -> register image of class cls.  1 when done, 0 when
** cconv must convert (or refuse) it.  Callers pass a constant class where
** they can: the code folds to that case. */
CCONV_INLINE int cconv_fastint(lua_State *L, int cls, int idx, uint64_t *out) {
  if (!lua_isinteger(L, idx)) return 0;
  *out = cconv_extend(cls, lua_tointeger(L, idx));
  return 1;
}

CCONV_INLINE int cconv_fastreg(lua_State *L, int cls, int idx, uint64_t *out) {
  if (cls <= CCS_U64) return cconv_fastint(L, cls, idx, out);
  switch (cls) {
  case CCS_DOUBLE:
    if (lua_type(L, idx) != LUA_TNUMBER) return 0;
    { union { double d; uint64_t u; } v; v.d = (double)lua_tonumber(L, idx); *out = v.u; }
    return 1;
  case CCS_FLOAT:
    if (lua_type(L, idx) != LUA_TNUMBER) return 0;
    { union { float f; uint32_t u; } v; v.f = (float)lua_tonumber(L, idx); *out = v.u; }
    return 1;
  case CCS_BOOL:
    if (!lua_isboolean(L, idx)) return 0;
    *out = (uint64_t)lua_toboolean(L, idx);
    return 1;
  case CCS_STR:
    if (lua_type(L, idx) == LUA_TSTRING) {
      *out = (uint64_t)(uintptr_t)lua_tostring(L, idx);
      return 1;
    }
    /* fall through */
  case CCS_PTR:
    if (!lua_isnil(L, idx)) return 0;
    *out = 0;
    return 1;
  default:
    return 0;
  }
}

/* Register image -> Lua value: pushes it and returns 1 (0 for CCS_VOID,
** nothing pushed), or returns -1 when cconv_tolua must make it (non-NULL
** pointers become cdata). */
CCONV_INLINE int cconv_pushreg(lua_State *L, int cls, uint64_t u) {
  if (cls <= CCS_U64) {
    lua_pushinteger(L, (lua_Integer)cconv_extend(cls, u));
    return 1;
  }
  switch (cls) {
  case CCS_DOUBLE:
    { union { double d; uint64_t u; } v; v.u = u; lua_pushnumber(L, (lua_Number)v.d); }
    return 1;
  case CCS_FLOAT:
    { union { float f; uint32_t u; } v; v.u = (uint32_t)u; lua_pushnumber(L, (lua_Number)v.f); }
    return 1;
  case CCS_BOOL:
    lua_pushboolean(L, (uint8_t)u != 0);
    return 1;
  case CCS_PTR: case CCS_STR:
    if (u != 0) return -1;
    lua_pushnil(L);
    return 1;
  case CCS_VOID:
    return 0;
  default:
    return -1;
  }
}

/* The bytes a value of class cls occupies in memory (0: none or unknown). */
CCONV_INLINE size_t cconv_regsize(int cls) {
  switch (cls) {
  case CCS_I8: case CCS_U8: case CCS_BOOL: return 1;
  case CCS_I16: case CCS_U16: return 2;
  case CCS_I32: case CCS_U32: case CCS_FLOAT: return 4;
  case CCS_VOID: case CCS_OTHER: return 0;
  default: return 8;
  }
}

/* The register image of a C value of class cls in memory (any alignment:
** packed members too; memcpy compiles to one load). */
CCONV_INLINE uint64_t cconv_loadreg(int cls, const void *src) {
  switch (cconv_regsize(cls)) {
  case 1: { uint8_t x; memcpy(&x, src, 1); return x; }
  case 2: { uint16_t x; memcpy(&x, src, 2); return x; }
  case 4: { uint32_t x; memcpy(&x, src, 4); return x; }
  case 8: { uint64_t x; memcpy(&x, src, 8); return x; }
  default: return 0;
  }
}

/* Store the low bytes of a register image of class cls at dst (any
** alignment): the truncation cconv applies to integers. */
CCONV_INLINE void cconv_storereg(int cls, void *dst, uint64_t u) {
  switch (cconv_regsize(cls)) {
  case 1: { uint8_t x = (uint8_t)u; memcpy(dst, &x, 1); break; }
  case 2: { uint16_t x = (uint16_t)u; memcpy(dst, &x, 2); break; }
  case 4: { uint32_t x = (uint32_t)u; memcpy(dst, &x, 4); break; }
  case 8: memcpy(dst, &u, 8); break;
  default: break;
  }
}

/* The class of a plain integer (CT_INT) or float/double type, without a
** call, for the indexing paths; CCS_OTHER for every other type (enums,
** bool, pointers...: cconv_sclass or cconv decide). */
CCONV_INLINE int cconv_numclass(const CType *t) {
  if (t->kind == CT_INT) {
    int u = (t->flags & CTF_UNSIGNED) != 0;
    switch (t->size) {
    case 1: return CCS_I8 + u;
    case 2: return CCS_I16 + u;
    case 4: return CCS_I32 + u;
    case 8: return CCS_I64 + u;
    default: return CCS_OTHER;
    }
  }
  if (t->kind == CT_FLOAT)
    return t->size == sizeof(float) ? CCS_FLOAT :
           t->size == sizeof(double) ? CCS_DOUBLE : CCS_OTHER;
  return CCS_OTHER;
}

/* A cdata passed where pointer type ptrid (pointing to `to`, qualifiers
** quals) is expected, when the answer is plain: the same pointer type
** (its value), or a record / array of `to` passed by address.  *out gets
** the address; 0 when cconv must decide.  The value at idx is a userdata. */
int cconv_fastptr(lua_State *L, CTState *S, CTypeID ptrid, CTypeID to,
                  unsigned quals, int idx, uint64_t *out);

/* A pointer argument of class cls (CCS_PTR, CCS_STR; anything else: a
** reference, which takes cdata only): nil is NULL, a string passes its
** bytes to a char/void pointer (1); a userdata answers -1: the caller
** tries cconv_fastptr; 0: cconv decides. */
CCONV_INLINE int cconv_fastptrarg(lua_State *L, int cls, int idx, uint64_t *out) {
  int t = lua_type(L, idx);
  if (t == LUA_TSTRING && cls == CCS_STR) {
    *out = (uint64_t)(uintptr_t)lua_tostring(L, idx);
    return 1;
  }
  if (t == LUA_TUSERDATA) return -1;
  if (t == LUA_TNIL && (cls == CCS_STR || cls == CCS_PTR)) {
    *out = 0;
    return 1;
  }
  return 0;
}

/* ======================================================================
** ABI descriptions (cabi.c).  The ffi_type side is in src/cabi.h, which
** includes libffi's ffi.h (only ccall.c and cabi.c need it).
** ====================================================================== */

/* Direct calls need an ABI where integer and floating-point arguments use
** separate register files, each assigned in argument order, and where a
** stack argument takes an 8-byte slot (integers beyond the registers). */
#if (defined(__x86_64__) && !defined(_WIN64) && !defined(__ILP32__)) || \
    (defined(__aarch64__) && !defined(__APPLE__) && !defined(_WIN32))
#define CABI_DIRECT 1
#else
#define CABI_DIRECT 0
#endif
#define CABI_MAXBYVAL 65536   /* bytes of a record passed or returned by value:
                                 ffi_call copies it to the C stack (alloca) */
#define CABI_MAXALIGN 16      /* libffi aligns stack arguments from a
                                 16-byte-aligned base: no more */

/* The integer type an enum or integer reads as (enums: their underlying). */
static inline const CType *cabi_intof(CTState *S, const CType *ct) {
  if (ct->kind == CT_ENUM && ct->child != 0) return ctype_get(S, ct->child);
  return ct;
}

/* How a small record (or complex) passes in registers of a direct call:
** nreg consecutive registers of the fp (fp = 1) or integer file, each
** holding stride bytes of its memory image. */
typedef struct CAbiAggPlan { uint8_t fp, nreg, stride; } CAbiAggPlan;
/* 1 with *p filled when a record of type id passes in registers (always 0
** without CABI_DIRECT). */
int cabi_aggplan(CTState *S, CTypeID id, CAbiAggPlan *p);

/* ======================================================================
** Calls (ccall.c).
** ====================================================================== */

/* Push a Lua C closure calling fptr as function type fid.  lib: stack index
** of the library handle userdata to keep alive and to check for closing
** (0: none).  name: for error messages.  The closure is registered so that
** cdata_test answers its function cdata. */
void ccall_pushfunc(lua_State *L, CTState *S, CTypeID fid, void *fptr,
                    int lib, const char *name);
/* __call of a function or function-pointer cdata at stack index 1; the
** arguments follow it. */
int ccall_callcdata(lua_State *L, CTState *S, CData *cd);
/* The prepared libffi call interface (an ffi_cif *, opaque here) of function
** type fid: the one calls use, so callbacks pass arguments and results
** exactly as calls do (packed records, bitfields, unions...).  It and the
** ffi_types under it stay valid until the state closes (ccall_freestate
** runs after ccallback_freestate).  ptypes (nfield entries, or NULL) gets
** each parameter's type as passed (arrays and functions decay to
** pointers).  NULL for a variadic type; raises "cannot pass or return 'T'
** by value ..." for a type that cannot be passed. */
void *ccall_cif(lua_State *L, CTState *S, CTypeID fid, CTypeID *ptypes);
void ccall_freestate(CTState *S);
int ccall_ffi_errno(lua_State *L, CTState *S);
/* ffi._slowpath(on): force every call through ffi_call (specs compare the
** direct-call fast path with libffi); returns the previous setting. */
int ccall_ffi_slowpath(lua_State *L, CTState *S);

/* ======================================================================
** Callbacks (ccallback.c).
** ====================================================================== */

/* Explicit callback (ffi.cast / ffi.new of a function pointer type with a
** Lua function at idx): pushes the callback cdata, returns its entry. */
void *ccallback_new(lua_State *L, CTState *S, CTypeID ptrid, int idx);
/* Implicit callback for a Lua function passed as an argument: lives as long
** as the function; the same function gives the same entry. */
void *ccallback_implicit(lua_State *L, CTState *S, CTypeID ptrid, int idx);
/* Methods of callback cdata (`free`, `set`): pushes the method and returns 1,
** or returns 0 for other keys. */
int ccallback_index(lua_State *L, CTState *S, CData *cd, const char *key);
/* After every C call: if S->cb_error, raise the error a callback caught. */
void ccallback_raise(lua_State *L, CTState *S);
void ccallback_freestate(CTState *S);

/* ======================================================================
** Libraries (clib.c).
** ====================================================================== */

/* A library handle: a userdata every namespace and function of the library
** references.  handle == NULL once closed. */
typedef struct CLib {
  void *handle;
  int isC;             /* ffi.C: never closed */
  char name[1];        /* as the user gave it (allocated longer) */
} CLib;

int clib_open(lua_State *L, CTState *S);            /* registers metatables */
int clib_ffi_load(lua_State *L, CTState *S);        /* ffi.load(name [, flags]) */
int clib_ffi_dlclose(lua_State *L, CTState *S);
int clib_ffi_addressof(lua_State *L, CTState *S);   /* ffi.addressof(lib, name) */
void clib_pushC(lua_State *L, CTState *S);          /* the ffi.C namespace */
void clib_pushflags(lua_State *L);                  /* sets RTLD_* on the table at -1 */
void clib_freestate(CTState *S);
/* Raises "library 'NAME' has been closed" when lib is closed. */
void clib_checkopen(lua_State *L, CLib *lib);

/* ======================================================================
** The module (lcffi.c).
** ====================================================================== */

CTState *cffi_state(lua_State *L);   /* from the registry: for slow paths */
/* Every ffi.* function and every metamethod is a C closure whose upvalue 1
** is the state userdata (a block holding the CTState pointer).  The state's
** __gc sets that pointer to NULL; finalizers of objects marked before the
** module was loaded run after it at lua_close.  cffi_upstate raises
** "cffi state is gone" then (every entry point uses it); a finalizer, which
** must not raise, reads cffi_upstate_raw and does nothing on NULL. */
CTState *cffi_stategone(lua_State *L);   /* raises; never returns */
static inline CTState *cffi_upstate_raw(lua_State *L) {
  CTState **pp = (CTState **)lua_touserdata(L, lua_upvalueindex(1));
  return pp != NULL ? *pp : NULL;
}
static inline CTState *cffi_upstate(lua_State *L) {
  CTState *S = cffi_upstate_raw(L);
  return __builtin_expect(S != NULL, 1) ? S : cffi_stategone(L);
}
/* Registry keys of the state's Lua tables: lua_rawgetp(L, LUA_REGISTRYINDEX,
** CFFI_KEY(S, CFFI_T_...)). */
#define CFFI_KEY(S, k)   ((const void *)((const char *)(S) + (k)))
enum {
  CFFI_T_STATE = 0,    /* the state userdata itself */
  CFFI_T_CTYPES,       /* id -> ctype object */
  CFFI_T_TCACHE,       /* type string -> id */
  CFFI_T_METATYPES,    /* id -> metatable */
  CFFI_T_FUNCS,        /* weak keys: library closure -> function cdata */
  CFFI_T_FINALIZERS,   /* weak keys: cdata -> finalizer */
  CFFI_T_CDMT,         /* cdata metatable */
  CFFI_T_CDMTGC,       /* cdata metatable with __gc */
  CFFI_T_CTMT,         /* ctype-object metatable */
  CFFI_T_CALLBACKS,    /* ccallback.c's table */
  CFFI_T_LIBS,         /* clib.c's table */
  CFFI_T_CALLS,        /* ccall.c's table */
  CFFI_T__N
};
void cffi_pushtable(lua_State *L, CTState *S, int k);  /* pushes CFFI_KEY(S, k) */
/* "bad argument #narg to 'fname' (msg)" naming the ffi function itself
** (luaL_argerror would name the caller's alias: local T = ffi.typeof);
** fname NULL: luaL_argerror.  cffi_typeerror's msg: "TNAME expected, got
** <Lua type of the argument>". */
int cffi_argerror(lua_State *L, int narg, const char *fname, const char *msg);
int cffi_typeerror(lua_State *L, int narg, const char *fname, const char *tname);

#pragma GCC visibility pop

int luaopen_cffi(lua_State *L) CFFI_EXPORT;

#endif
