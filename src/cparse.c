/*
** cparse.c: parser of C declarations (ffi.cdef) and abstract type names
** (ffi.new("int[?]")), with integer constant expressions, `#define NAME
** <int>` and `#pragma pack`.  Tokens come from the lexer (clex.c).
**
** Plain C that never raises: a parse error fills the CPError and longjmps
** back to cparse_run.  Only this file's frames lie between the two (every
** ctype_* and clex_* call has returned: the lexer reports errors by value),
** and all scratch memory hangs off CPState, so the jump leaks nothing; the
** transaction then undoes what was registered.
*/

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cffi.h"
#include "clex.h"

#define CPARSE_MAXDEPTH  100          /* nesting of declarators/expressions */
#define CPARSE_MAXSIZE   (SIZE_MAX >> 1)

/* Type specifier words, TK_VOID .. TK_INT64 (CPSpec.cnt is indexed by them). */
#define NWORDS (TK_INT64 - TK_VOID + 1)

typedef struct CPVal { int64_t v; int t; } CPVal;

/* Attributes seen around a declaration. */
typedef struct CPAttr {
  unsigned align;      /* aligned(N) / __declspec(align(N)) */
  int packed;
  size_t vsize;        /* vector_size(N) */
  unsigned msize, mvec;/* mode(): element bytes, vector count */
  int mfloat;
  const char *sym;     /* __asm__("sym"), interned */
} CPAttr;

enum { SC_TYPEDEF = 1, SC_EXTERN = 2, SC_STATIC = 4, SC_OTHER = 8 };  /* storage */

typedef struct CPSpec {
  CTypeID id;          /* base type; 0 while only specifier words were seen */
  unsigned quals, storage;
  int nwords, anonrec; /* anonrec: an untagged struct/union defined here */
  uint8_t cnt[NWORDS];
  CPAttr attr;
} CPSpec;

typedef struct CPDecl {
  CTypeID id;
  unsigned quals;
  const char *name;    /* not interned, not terminated; NULL when abstract */
  size_t nlen;
  CLexTok ntok;          /* the name, or where the declarator started */
  CPAttr attr;
} CPDecl;

/* Declarator operations, recorded then applied to the base type. */
enum { OP_PTR, OP_REF, OP_ARR, OP_FUNC };
typedef struct CPOp {
  int op;
  unsigned quals;      /* OP_PTR: quals of the pointer itself */
  unsigned flags;      /* OP_ARR: CTF_VLA/CTF_INCOMPLETE; OP_FUNC: CTF_VARIADIC */
  size_t n;            /* OP_ARR: count */
  uint32_t p0, np;     /* OP_FUNC: params on the field stack */
} CPOp;

typedef struct CPState {
  CTState *S;
  CLexState lex;
  CLexTok tok, ahead;
  int hasahead;
  const char *defname; /* #define being parsed (for messages) */
  size_t deflen;
  const CPParam *params;
  int nparams, iparam;
  CPError *err;
  jmp_buf jb;
  int depth, noeval, inparams;
  CPOp *ops;           /* declarator ops stack */
  uint32_t nops, szops;
  CField *fl;          /* stack of members, params and enum constants */
  uint32_t nfl, szfl;
  uint32_t scope;      /* first field of the innermost struct/enum body */
  CTypeID out;
} CPState;

/* ---------------------------------------------------------------------- */
/* Errors.                                                                */

__attribute__((noreturn, format(printf, 4, 5)))
static void cparse_err(CPState *P, const CLexTok *t, int near, const char *fmt, ...) {
  CPError *e = P->err;
  char msg[180];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  e->line = t->line;
  clex_tokstr(t, e->token, sizeof e->token);
  if (near) snprintf(e->msg, sizeof e->msg, "%s near '%s'", msg, e->token);
  else snprintf(e->msg, sizeof e->msg, "%s", msg);
  longjmp(P->jb, 1);
}

#define cparse_errnear(P, ...)  cparse_err(P, &(P)->tok, 1, __VA_ARGS__)
#define cparse_oom(P)           cparse_err(P, &(P)->tok, 0, "not enough memory")

__attribute__((noreturn))
static void cparse_unexpected(CPState *P) {
  if (P->tok.tok == TK_EOF) cparse_err(P, &P->tok, 0, "unexpected end of input");
  cparse_errnear(P, "unexpected symbol");
}

static void cparse_enter(CPState *P) {
  if (++P->depth > CPARSE_MAXDEPTH) cparse_errnear(P, "nested too deeply");
}
#define cparse_leave(P)  ((P)->depth--)

/* ---------------------------------------------------------------------- */
/* Token stream: one token of lookahead.                                  */

static void cparse_fetch(CPState *P, CLexTok *t) {
  const char *msg = clex_next(&P->lex, t);
  if (msg != NULL) cparse_err(P, t, 1, "%s", msg);
}

static void cparse_next(CPState *P) {
  if (P->hasahead) { P->tok = P->ahead; P->hasahead = 0; }
  else cparse_fetch(P, &P->tok);
}

static const CLexTok *cparse_peek(CPState *P) {
  if (!P->hasahead) { cparse_fetch(P, &P->ahead); P->hasahead = 1; }
  return &P->ahead;
}

static void cparse_expect(CPState *P, int c) {
  if (P->tok.tok != c) cparse_errnear(P, "'%c' expected", c);
}

static void cparse_skip(CPState *P, int c) {
  cparse_expect(P, c);
  cparse_next(P);
}

static int cparse_isword(const CLexTok *t, const char *w) {
  size_t n = strlen(w);
  return t->tok == TK_NAME && t->len == n && memcmp(t->s, w, n) == 0;
}

static const char *cparse_intern(CPState *P, const char *s, size_t len) {
  const char *r = ctype_str(P->S, s, len);
  if (r == NULL) cparse_oom(P);
  return r;
}

static void *cparse_grow(CPState *P, void *p, uint32_t *sz, size_t esz) {
  uint32_t n = *sz ? *sz * 2 : 32;
  void *np;
  if (n > (1u << 26) || (np = realloc(p, n * esz)) == NULL) cparse_oom(P);
  *sz = n;
  return np;
}

static CField *cparse_pushfield(CPState *P) {
  CField *f;
  if (P->nfl == P->szfl) P->fl = cparse_grow(P, P->fl, &P->szfl, sizeof(CField));
  f = &P->fl[P->nfl++];
  memset(f, 0, sizeof *f);
  return f;
}

static void cparse_pushop(CPState *P, int op, unsigned quals, unsigned flags,
                          size_t n, uint32_t p0, uint32_t np) {
  CPOp *o;
  if (P->nops == P->szops) P->ops = cparse_grow(P, P->ops, &P->szops, sizeof(CPOp));
  o = &P->ops[P->nops++];
  o->op = op; o->quals = quals; o->flags = flags; o->n = n; o->p0 = p0; o->np = np;
}

/* `$` parameters, consumed left to right. */
static int cparse_paramkind(CPState *P) {
  return P->iparam < P->nparams ? P->params[P->iparam].kind : 0;
}

static const CPParam *cparse_param(CPState *P, int kind) {
  const CPParam *p;
  if (P->iparam >= P->nparams) cparse_err(P, &P->tok, 0, "missing parameter for '$'");
  p = &P->params[P->iparam];
  if (p->kind != kind) cparse_err(P, &P->tok, 0, "wrong kind of parameter for '$'");
  if ((kind == CPP_TYPE && (p->type == 0 || p->type >= P->S->ntab)) ||
      (kind == CPP_NAME && (p->s == NULL || p->len == 0)))
    cparse_err(P, &P->tok, 0, "invalid parameter for '$'");
  P->iparam++;
  return p;
}

/* An identifier, or `$` taking a name. */
static void cparse_ident(CPState *P, const char **s, size_t *len) {
  if (P->tok.tok == TK_NAME) { *s = P->tok.s; *len = P->tok.len; }
  else if (P->tok.tok == TK_PARAM) {
    const CPParam *p = cparse_param(P, CPP_NAME);
    *s = p->s; *len = p->len;
  } else cparse_errnear(P, "identifier expected");
  cparse_next(P);
}

/* ---------------------------------------------------------------------- */
/* Type comparison (identical redeclarations are accepted).  Integers of  */
/* one size and sign match: `typedef long int64_t;` is fine here.         */

static int cparse_samestr(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

static int cparse_sametype(CTState *S, CTypeID a, CTypeID b, int depth);

static int cparse_samerec(CTState *S, const CType *A, const CType *B, int depth) {
  uint32_t i;
  if (A->kind != B->kind || A->size != B->size || A->align != B->align ||
      A->nfield != B->nfield || ((A->flags ^ B->flags) & ~CTF_METATYPE))
    return 0;
  for (i = 0; i < A->nfield; i++) {
    const CField *f = ctype_field(S, A, i), *g = ctype_field(S, B, i);
    if (!cparse_samestr(f->name, g->name) || f->flags != g->flags ||
        f->value != g->value || f->attralign != g->attralign ||
        f->offset != g->offset || f->bitpos != g->bitpos || f->bitsize != g->bitsize)
      return 0;
    if (A->kind != CT_ENUM && !cparse_sametype(S, f->type, g->type, depth + 1))
      return 0;
  }
  return 1;
}

static int cparse_sametype(CTState *S, CTypeID a, CTypeID b, int depth) {
  const CType *A = ctype_get(S, a), *B = ctype_get(S, b);
  uint32_t i;
  if (a == b) return 1;
  if (depth > CPARSE_MAXDEPTH || A->kind != B->kind) return 0;
  if (A->kind == CT_INT)
    return A->size == B->size && !((A->flags ^ B->flags) & (CTF_UNSIGNED|CTF_CHAR));
  switch (A->kind) {
  case CT_STRUCT: case CT_UNION: case CT_ENUM:   /* tagged ones are unique */
    return !A->name && !B->name && cparse_samerec(S, A, B, depth);
  case CT_FUNC:
    if (A->nfield != B->nfield || A->flags != B->flags) return 0;
    for (i = 0; i < A->nfield; i++)
      if (!cparse_sametype(S, ctype_field(S, A, i)->type, ctype_field(S, B, i)->type,
                           depth + 1))
        return 0;
    /* fallthrough */
  case CT_PTR: case CT_REF: case CT_ARRAY: case CT_VECTOR:
    return A->flags == B->flags && A->count == B->count && A->size == B->size &&
           cparse_sametype(S, A->child, B->child, depth + 1);
  default:
    return 0;
  }
}

/* Declare an ordinary name; an identical (or equivalent) one is fine. */
static void cparse_declare(CPState *P, const CLexTok *at, const char *name, int kind,
                           CTypeID type, unsigned quals, int64_t value,
                           const char *sym) {
  CName n;
  const CName *o = ctype_lookup(P->S, name, strlen(name));
  int r;
  memset(&n, 0, sizeof n);
  n.name = name; n.kind = (uint32_t)kind; n.type = type;
  n.quals = quals & CTF_QUALS; n.value = value; n.sym = sym;
  /* glibc adds __asm__ labels in a redeclaration: the first one stays */
  if (o && o->kind == n.kind && o->quals == n.quals && o->value == value &&
      (!o->sym || !sym || !strcmp(o->sym, sym)) && cparse_sametype(P->S, o->type, type, 0))
    return;
  r = ctype_declare(P->S, &n);
  if (r == -2) cparse_oom(P);
  if (r < 0) cparse_err(P, at, 0, "redefinition of '%s'", name);
}

/* ---------------------------------------------------------------------- */
/* Integer constant expressions.                                          */

static CPVal cparse_norm(CPVal x) {
  if (!(x.t & VT_64))
    x.v = (x.t & VT_UNS) ? (int64_t)(uint32_t)x.v : (int64_t)(int32_t)(uint32_t)x.v;
  return x;
}

static CPVal cparse_conv(CPVal x, int t) {
  x.t = t;
  return cparse_norm(x);
}

/* Usual arithmetic conversions (int and long long ranks only). */
static int cparse_common(int a, int b) {
  if ((a | b) & VT_64)
    return VT_64 | ((a & VT_64) ? a & VT_UNS : 0) | ((b & VT_64) ? b & VT_UNS : 0);
  return (a | b) & VT_UNS;
}

/* The value of a constant of C type id. */
static CPVal cparse_typedval(CPState *P, CTypeID id, int64_t v) {
  const CType *ct = ctype_get(P->S, id);
  CPVal r;
  int uns = (ct->flags & CTF_UNSIGNED) ? VT_UNS : 0;
  r.v = v;
  if (ct->kind == CT_BOOL) r.t = VT_INT;
  else if (ct->kind == CT_ENUM || ct->size == 4) r.t = uns | (ct->size == 8 ? VT_64 : 0);
  else r.t = ct->size == 8 ? VT_64 | uns : VT_INT;
  return cparse_norm(r);
}

/* Convert a value to integer type id, as a cast or an initialiser does. */
static CPVal cparse_cast(CPState *P, CPVal v, CTypeID id) {
  const CType *ct = ctype_get(P->S, id);
  int uns = (ct->flags & CTF_UNSIGNED) != 0;
  if (!ctype_isint(ct)) {
    char buf[64];
    cparse_errnear(P, "invalid cast to '%s'", ctype_repr(P->S, id, buf, sizeof buf));
  }
  if (ct->kind == CT_BOOL) v.v = v.v != 0;
  else if (ct->size == 1) v.v = uns ? (int64_t)(uint8_t)v.v : (int64_t)(int8_t)v.v;
  else if (ct->size == 2) v.v = uns ? (int64_t)(uint16_t)v.v : (int64_t)(int16_t)v.v;
  return cparse_typedval(P, id, v.v);
}

static CPVal cparse_cond(CPState *P);
static CPVal cparse_unary(CPState *P);
static CTypeID cparse_typename(CPState *P);

__attribute__((noreturn))
static void cparse_notconst(CPState *P) {
  if (P->defname)
    cparse_errnear(P, "'#define %.*s' is not an integer constant expression",
                   (int)P->deflen, P->defname);
  if (P->tok.tok == TK_NUM)
    cparse_errnear(P, P->tok.s[0] == '\'' ? "invalid character constant"
                                           : "malformed integer constant");
  if (P->tok.tok == TK_EOF) cparse_unexpected(P);
  cparse_errnear(P, "constant expression expected");
}

static CPVal cparse_name(CPState *P) {
  const CLexTok *t = &P->tok;
  const CName *n;
  uint32_t i;
  for (i = P->nfl; i-- > P->scope; ) {   /* constants of the body being parsed */
    const CField *f = &P->fl[i];
    if ((f->flags & CFF_CONSTVAL) && f->name && f->name[0] == t->s[0] &&
        strlen(f->name) == t->len && memcmp(f->name, t->s, t->len) == 0) {
      CPVal r;
      if (f->type != CTID_INT) return cparse_typedval(P, f->type, f->value);
      r.v = f->value;
      r.t = f->value >= INT32_MIN && f->value <= INT32_MAX ? VT_INT
          : f->value >= 0 && f->value <= (int64_t)UINT32_MAX ? VT_UINT : VT_I64;
      return r;
    }
  }
  n = ctype_lookup(P->S, t->s, t->len);
  if (n == NULL) cparse_err(P, t, 0, "'%.*s' is undeclared", (int)t->len, t->s);
  if (n->kind != CN_CONST)
    cparse_err(P, t, 0, "'%.*s' is not a constant", (int)t->len, t->s);
  return cparse_typedval(P, n->type, n->value);
}

static CPVal cparse_primary(CPState *P) {
  CPVal v;
  v.v = 0; v.t = VT_INT;
  if (P->tok.tok == TK_NUM && !P->tok.bad) { v.v = P->tok.v; v.t = P->tok.vt; }
  else if (P->tok.tok == TK_NAME) v = cparse_name(P);
  else if (P->tok.tok == TK_PARAM) {
    const CPParam *p = cparse_param(P, CPP_INT);
    v.v = p->n;
    v.t = p->n >= INT32_MIN && p->n <= INT32_MAX ? VT_INT : VT_I64;
  } else cparse_notconst(P);
  cparse_next(P);
  return v;
}

/* Does t start a type name (for casts and sizeof)? */
static int cparse_istype(CPState *P, const CLexTok *t) {
  if ((t->tok >= TK_VOID && t->tok <= TK_ENUM)) return 1;
  if (t->tok == TK_NAME) {
    const CName *n = ctype_lookup(P->S, t->s, t->len);
    return n && n->kind == CN_TYPEDEF;
  }
  return t->tok == TK_PARAM && cparse_paramkind(P) == CPP_TYPE;
}

static CPVal cparse_sizeof(CPState *P) {
  int isalign = P->tok.tok == TK_ALIGNOF;
  CPVal v;
  cparse_next(P);
  if (P->tok.tok == '(' && cparse_istype(P, cparse_peek(P))) {
    const CType *ct;
    CTypeID id;
    cparse_next(P);
    id = cparse_typename(P);
    cparse_expect(P, ')');
    ct = ctype_get(P->S, id);
    if (ct->kind == CT_FUNC || (ct->flags & (CTF_INCOMPLETE|CTF_VLA))) {
      char buf[64];
      cparse_errnear(P, "invalid application of '%s' to incomplete type '%s'",
                     isalign ? "alignof" : "sizeof", ctype_repr(P->S, id, buf, sizeof buf));
    }
    v.v = isalign ? (int64_t)ct->align : (int64_t)ct->size;
    cparse_next(P);
  } else {                /* sizeof expr: the size of its type */
    P->noeval++;
    v = cparse_unary(P);
    P->noeval--;
    v.v = (v.t & VT_64) ? 8 : 4;
  }
  v.t = VT_U64;
  return v;
}

static CPVal cparse_unary(CPState *P) {
  CPVal v;
  int op = P->tok.tok;
  cparse_enter(P);
  if (op == '-' || op == '+' || op == '~' || op == '!') {
    cparse_next(P);
    v = cparse_unary(P);
    if (op == '-') v.v = (int64_t)(0 - (uint64_t)v.v);
    else if (op == '~') v.v = ~v.v;
    else if (op == '!') { v.v = !v.v; v.t = VT_INT; }
    v = cparse_norm(v);
  } else if (op == '(' && cparse_istype(P, cparse_peek(P))) {
    CTypeID id;
    cparse_next(P);
    id = cparse_typename(P);
    cparse_skip(P, ')');
    v = cparse_cast(P, cparse_unary(P), id);
  } else if (op == '(') {
    cparse_next(P);
    v = cparse_cond(P);
    cparse_skip(P, ')');
  } else if (op == TK_SIZEOF || op == TK_ALIGNOF) {
    v = cparse_sizeof(P);
  } else if (op == TK_EXTENSION) {
    cparse_next(P);
    v = cparse_unary(P);
  } else v = cparse_primary(P);
  cparse_leave(P);
  return v;
}

static int cparse_prec(int tok) {
  switch (tok) {
  case TK_OR: return 1;
  case TK_AND: return 2;
  case '|': return 3;
  case '^': return 4;
  case '&': return 5;
  case TK_EQ: case TK_NE: return 6;
  case '<': case '>': case TK_LE: case TK_GE: return 7;
  case TK_SHL: case TK_SHR: return 8;
  case '+': case '-': return 9;
  case '*': case '/': case '%': return 10;
  default: return 0;
  }
}

static CPVal cparse_binop(CPState *P, const CLexTok *optok, CPVal a, CPVal b) {
  int op = optok->tok, t;
  uint64_t x, y;
  CPVal r;
  r.t = VT_INT;
  if (op == TK_AND || op == TK_OR) {
    r.v = op == TK_AND ? (a.v && b.v) : (a.v || b.v);
    return r;
  }
  if (op == TK_SHL || op == TK_SHR) {
    int w = (a.t & VT_64) ? 64 : 32;
    if (b.v < 0 || b.v >= w) {
      if (P->noeval) return a;
      cparse_err(P, optok, 1, "shift count out of range");
    }
    if (op == TK_SHL) a.v = (int64_t)((uint64_t)a.v << b.v);
    else if (a.t & VT_UNS) a.v = (int64_t)((uint64_t)a.v >> b.v);
    else a.v = a.v >> b.v;
    return cparse_norm(a);
  }
  t = cparse_common(a.t, b.t);
  a = cparse_conv(a, t);
  b = cparse_conv(b, t);
  x = (uint64_t)a.v; y = (uint64_t)b.v;
  switch (op) {
  case TK_EQ: r.v = x == y; return r;
  case TK_NE: r.v = x != y; return r;
  case '<': r.v = (t & VT_UNS) ? x < y : a.v < b.v; return r;
  case '>': r.v = (t & VT_UNS) ? x > y : a.v > b.v; return r;
  case TK_LE: r.v = (t & VT_UNS) ? x <= y : a.v <= b.v; return r;
  case TK_GE: r.v = (t & VT_UNS) ? x >= y : a.v >= b.v; return r;
  case '+': x += y; break;
  case '-': x -= y; break;
  case '*': x *= y; break;
  case '&': x &= y; break;
  case '|': x |= y; break;
  case '^': x ^= y; break;
  default:  /* '/' and '%' */
    if (y == 0) {
      if (P->noeval) { x = 0; break; }
      cparse_err(P, optok, 1, "division by zero");
    }
    if (t & VT_UNS) x = op == '/' ? x / y : x % y;
    else if (a.v == INT64_MIN && b.v == -1) x = op == '/' ? x : 0;
    else x = (uint64_t)(op == '/' ? a.v / b.v : a.v % b.v);
  }
  r.v = (int64_t)x;
  r.t = t;
  return cparse_norm(r);
}

static CPVal cparse_binary(CPState *P, int limit) {
  CPVal a = cparse_unary(P), b;
  for (;;) {
    int pr = cparse_prec(P->tok.tok), skip;
    CLexTok optok = P->tok;
    if (pr <= limit) return a;
    cparse_next(P);
    /* the right side of && / || is not evaluated: no errors from it */
    skip = optok.tok == TK_AND ? !a.v : optok.tok == TK_OR ? a.v != 0 : 0;
    P->noeval += skip;
    b = cparse_binary(P, pr);
    P->noeval -= skip;
    a = cparse_binop(P, &optok, a, b);
  }
}

static CPVal cparse_cond(CPState *P) {
  CPVal c, a, b;
  cparse_enter(P);
  c = cparse_binary(P, 0);
  if (P->tok.tok == '?') {
    cparse_next(P);
    P->noeval += !c.v;
    a = cparse_cond(P);
    P->noeval -= !c.v;
    cparse_skip(P, ':');
    P->noeval += c.v != 0;
    b = cparse_cond(P);
    P->noeval -= c.v != 0;
    c = cparse_conv(c.v ? a : b, cparse_common(a.t, b.t));
  }
  cparse_leave(P);
  return c;
}


/* A non-negative count (array size, alignment, vector size). */
static size_t cparse_count(CPState *P, const char *what) {
  CLexTok st = P->tok;
  CPVal v = cparse_cond(P);
  if (!(v.t & VT_UNS) && v.v < 0) cparse_err(P, &st, 1, "%s is negative", what);
  if ((uint64_t)v.v > CPARSE_MAXSIZE) cparse_err(P, &st, 1, "%s is too large", what);
  return (size_t)v.v;
}

/* ---------------------------------------------------------------------- */
/* Attributes.                                                            */

static void cparse_skipparens(CPState *P) {
  int lvl = 0;
  do {
    if (P->tok.tok == '(') lvl++;
    else if (P->tok.tok == ')') lvl--;
    else if (P->tok.tok == TK_EOF || P->tok.tok == TK_EOL) cparse_expect(P, ')');
    cparse_next(P);
  } while (lvl > 0);
}

static int cparse_is(const char *s, size_t n, const char *w) {
  return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* mode(QI/HI/SI/DI/SF/DF), with a V<n> prefix for vector modes. */
static void cparse_mode(CPState *P, CPAttr *a) {
  static const char *const modes[] = { "QI", "HI", "SI", "DI", "SF", "DF" };
  static const unsigned sizes[] = { 1, 2, 4, 8, 4, 8 };
  const char *s = P->tok.s;
  size_t n = P->tok.len, i;
  unsigned vec = 0;
  if (P->tok.tok != TK_NAME) cparse_errnear(P, "mode name expected");
  if (n > 4 && s[0] == '_' && s[1] == '_' && s[n-1] == '_' && s[n-2] == '_') s += 2, n -= 4;
  if (n > 1 && s[0] == 'V' && clex_isdigit(s[1]))
    for (s++, n--; n > 0 && clex_isdigit(*s) && vec < 4096; s++, n--)
      vec = vec * 10 + (unsigned)(*s - '0');
  if (cparse_is(s, n, "byte")) s = "QI", n = 2;
  else if (cparse_is(s, n, "word") || cparse_is(s, n, "pointer")) s = "DI", n = 2;
  for (i = 0; i < 6 && !cparse_is(s, n, modes[i]); i++) {}
  if (i == 6 || (vec & (vec - 1))) cparse_errnear(P, "unsupported mode");
  a->msize = sizes[i];
  a->mfloat = i >= 4;
  a->mvec = vec;
  cparse_next(P);
}

/* One attribute of __attribute__((...)) (ms: of __declspec(...)). */
static void cparse_attr(CPState *P, CPAttr *a, int ms) {
  const char *s = P->tok.s;
  size_t n = P->tok.len;
  if (P->tok.tok != TK_NAME && P->tok.tok < TK_VOID) cparse_errnear(P, "attribute name expected");
  if (n > 4 && s[0] == '_' && s[1] == '_' && s[n-1] == '_' && s[n-2] == '_') s += 2, n -= 4;
  cparse_next(P);
  if (cparse_is(s, n, ms ? "align" : "aligned")) {
    size_t v = 16;        /* __BIGGEST_ALIGNMENT__ on x86-64 and aarch64 */
    if (P->tok.tok == '(' || ms) {
      cparse_skip(P, '(');
      v = cparse_count(P, "alignment");
      if (v == 0 || (v & (v - 1)) || v > (1u << 28)) cparse_errnear(P, "invalid alignment");
      cparse_skip(P, ')');
    }
    if (v > a->align) a->align = (unsigned)v;
  } else if (!ms && cparse_is(s, n, "packed")) {
    a->packed = 1;
  } else if (!ms && cparse_is(s, n, "vector_size")) {
    cparse_skip(P, '(');
    a->vsize = cparse_count(P, "vector size");
    cparse_skip(P, ')');
  } else if (!ms && cparse_is(s, n, "mode")) {
    cparse_skip(P, '(');
    cparse_mode(P, a);
    cparse_skip(P, ')');
  } else if (P->tok.tok == '(') cparse_skipparens(P);   /* ignored */
}

/* __asm__("sym"): adjacent strings are concatenated. */
static void cparse_asm(CPState *P, CPAttr *a) {
  char buf[256];
  size_t n = 0;
  cparse_next(P);
  cparse_skip(P, '(');
  if (P->tok.tok != TK_STR) cparse_errnear(P, "string expected");
  while (P->tok.tok == TK_STR) {
    size_t l = P->tok.len - 2;
    if (l > sizeof buf - n) cparse_errnear(P, "symbol name too long");
    memcpy(buf + n, P->tok.s + 1, l);
    n += l;
    cparse_next(P);
  }
  cparse_skip(P, ')');
  a->sym = n ? cparse_intern(P, buf, n) : NULL;
}

/* Any run of attributes, asm labels and ignored keywords. */
static void cparse_attrs(CPState *P, CPAttr *a) {
  for (;;) {
    switch (P->tok.tok) {
    case TK_ATTRIBUTE:
      cparse_next(P);
      cparse_skip(P, '(');
      cparse_skip(P, '(');
      while (P->tok.tok != ')') {
        if (P->tok.tok != ',') cparse_attr(P, a, 0);
        if (P->tok.tok != ',') break;
        cparse_next(P);
      }
      cparse_skip(P, ')');
      cparse_skip(P, ')');
      break;
    case TK_DECLSPEC:
      cparse_next(P);
      cparse_skip(P, '(');
      while (P->tok.tok != ')') cparse_attr(P, a, 1);
      cparse_next(P);
      break;
    case TK_ASM:
      cparse_asm(P, a);
      break;
    case TK_EXTENSION: case TK_IGNORED:
      cparse_next(P);
      break;
    default:
      return;
    }
  }
}

/* Apply mode() and vector_size() to type *id. */
static void cparse_applyattr(CPState *P, CTypeID *id, CPAttr *a) {
  CTState *S = P->S;
  if (a->msize) {
    const CType *ct = ctype_get(S, *id);
    CTypeID e;
    int u = (ct->flags & CTF_UNSIGNED) != 0;
    if (a->mfloat) e = a->msize == 4 ? CTID_FLOAT : CTID_DOUBLE;
    else if (ct->kind != CT_INT && ct->kind != CT_ENUM && ct->kind != CT_BOOL)
      cparse_errnear(P, "invalid type for attribute 'mode'");
    else e = a->msize == 1 ? (u ? CTID_UCHAR : CTID_SCHAR)
           : a->msize == 2 ? (u ? CTID_USHORT : CTID_SHORT)
           : a->msize == 4 ? (u ? CTID_UINT : CTID_INT) : (u ? CTID_UINT64 : CTID_INT64);
    *id = a->mvec ? ctype_vector(S, e, (size_t)a->mvec * a->msize) : e;
    if (!*id) cparse_oom(P);
    a->msize = 0;
  }
  if (a->vsize) {
    const CType *ct = ctype_get(S, *id);
    size_t es = ct->size, k = es ? a->vsize / es : 0;
    if ((ct->kind != CT_INT && ct->kind != CT_FLOAT && ct->kind != CT_BOOL) ||
        k == 0 || a->vsize % es || (k & (k - 1)))
      cparse_errnear(P, "invalid vector size");
    if ((*id = ctype_vector(S, *id, a->vsize)) == 0) cparse_oom(P);
    a->vsize = 0;
  }
}

/* ---------------------------------------------------------------------- */
/* Declaration specifiers, struct/union/enum.                             */

static void cparse_declspec(CPState *P, CPSpec *sp);
static void cparse_declarator(CPState *P, CPDecl *d, int mode);
enum { DECL_NAMED, DECL_ABSTRACT, DECL_EITHER };

static void cparse_declinit(CPState *P, CPDecl *d, const CPSpec *sp) {
  memset(d, 0, sizeof *d);
  d->id = sp->id;
  d->quals = sp->quals;
  d->ntok = P->tok;
}

static unsigned cparse_qflags(unsigned quals) {
  return ((quals & CTF_CONST) ? CFF_CONST : 0) | ((quals & CTF_VOLATILE) ? CFF_VOLATILE : 0);
}

static const char *cparse_kindname(int kind) {
  return kind == CT_STRUCT ? "struct" : kind == CT_UNION ? "union" : "enum";
}

/* `struct foo` without a body: the existing record, or a new forward one. */
static CTypeID cparse_tagref(CPState *P, int kind, const char *tag, size_t len,
                             const CLexTok *at) {
  CTypeID id = ctype_lookuptag(P->S, kind, tag, len);
  const char *itag;
  int r;
  if (id) return id;
  for (r = CT_STRUCT; r <= CT_ENUM; r++)   /* one tag namespace, as in C */
    if (r != kind && ctype_lookuptag(P->S, r, tag, len))
      cparse_err(P, at, 0, "'%.*s' defined as wrong kind of tag", (int)len, tag);
  itag = cparse_intern(P, tag, len);
  if ((id = ctype_newrecord(P->S, kind, itag)) == 0) cparse_oom(P);
  if ((r = ctype_declaretag(P->S, kind, itag, id)) == -2) cparse_oom(P);
  if (r < 0) cparse_err(P, at, 0, "redefinition of '%s %s'", cparse_kindname(kind), itag);
  return id;
}

/* Members of a struct/union body, pushed on the field stack. */
static void cparse_member(CPState *P, const CPSpec *sp) {
  CPDecl d;
  CField f;
  const CType *ct;
  uint32_t i;
  cparse_declinit(P, &d, sp);
  memset(&f, 0, sizeof f);
  if (P->tok.tok != ':') cparse_declarator(P, &d, DECL_NAMED);
  cparse_attrs(P, &d.attr);
  cparse_applyattr(P, &d.id, &d.attr);
  ct = ctype_get(P->S, d.id);
  if (P->tok.tok == ':') {
    if (!ctype_isint(ct)) cparse_errnear(P, "bit-field has invalid type");
    cparse_next(P);
    f.bitsize = (uint32_t)cparse_count(P, "bit-field width");
    f.flags |= CFF_BITFIELD;
    cparse_attrs(P, &d.attr);
  } else if (sp->storage & SC_STATIC) {
    CPVal v;
    if (!ctype_isint(ct)) cparse_err(P, &d.ntok, 0, "static member must be an integer constant");
    cparse_skip(P, '=');
    v = cparse_cast(P, cparse_cond(P), d.id);
    f.flags |= CFF_CONSTVAL;
    f.value = v.v;
  } else if ((ct->flags & CTF_INCOMPLETE) && ct->kind != CT_ARRAY) {
    char buf[64];
    cparse_err(P, &d.ntok, 0, "field '%.*s' has incomplete type '%s'", (int)d.nlen,
               d.name ? d.name : "", ctype_repr(P->S, d.id, buf, sizeof buf));
  }
  if (d.name) {
    f.name = cparse_intern(P, d.name, d.nlen);
    for (i = P->scope; i < P->nfl; i++)
      if (P->fl[i].name && strcmp(P->fl[i].name, f.name) == 0)
        cparse_err(P, &d.ntok, 0, "duplicate member '%s'", f.name);
  }
  f.type = d.id;
  f.flags |= cparse_qflags(d.quals) |
             (sp->attr.packed || d.attr.packed ? CFF_PACKED : 0);
  f.attralign = sp->attr.align > d.attr.align ? sp->attr.align : d.attr.align;
  *cparse_pushfield(P) = f;
}

static void cparse_members(CPState *P) {
  while (P->tok.tok != '}') {
    CPSpec sp;
    if (P->tok.tok == ';') { cparse_next(P); continue; }
    if (P->tok.tok == TK_EOF) cparse_expect(P, '}');
    cparse_declspec(P, &sp);
    if (P->tok.tok == ';') {
      if (sp.anonrec) {     /* transparent member */
        CField *f = cparse_pushfield(P);
        f->type = sp.id;
        f->flags = CFF_ANON | cparse_qflags(sp.quals) | (sp.attr.packed ? CFF_PACKED : 0);
        f->attralign = sp.attr.align;
      }
    } else {
      for (;;) {
        cparse_member(P, &sp);
        if (P->tok.tok != ',') break;
        cparse_next(P);
      }
      cparse_expect(P, ';');
    }
    cparse_next(P);
  }
}

/* The head of a struct/union/enum: keyword, attributes, tag.  Returns the
** referenced (or forward-declared) type when no body follows; otherwise
** 0, with '{' consumed and a new constant scope opened. */
typedef struct CPTag {
  int kind;
  const char *tag;     /* not interned; NULL when anonymous */
  size_t tlen;
  CLexTok ttok;          /* the tag (or keyword) for messages */
  CPAttr attr;
  uint32_t start, oldscope;
} CPTag;

static CTypeID cparse_taghead(CPState *P, CPTag *h, int kind) {
  memset(h, 0, sizeof *h);
  h->kind = kind;
  h->ttok = P->tok;
  cparse_next(P);
  cparse_attrs(P, &h->attr);
  if (P->tok.tok == TK_NAME || P->tok.tok == TK_PARAM) {
    h->ttok = P->tok;
    cparse_ident(P, &h->tag, &h->tlen);
    cparse_attrs(P, &h->attr);
  }
  if (P->tok.tok != '{') {
    if (!h->tag) cparse_errnear(P, "'{' expected");
    return cparse_tagref(P, kind, h->tag, h->tlen, &h->ttok);
  }
  cparse_next(P);
  h->start = P->nfl;
  h->oldscope = P->scope;
  P->scope = h->start;
  return 0;
}

static void cparse_tagend(CPState *P, const CPTag *h) {
  P->nfl = h->start;
  P->scope = h->oldscope;
}

/* struct/union: reference, forward declaration or definition. */
static CTypeID cparse_record(CPState *P, CPSpec *sp) {
  CTState *S = P->S;
  CPTag h;
  CTypeID id = cparse_taghead(P, &h, P->tok.tok == TK_STRUCT ? CT_STRUCT : CT_UNION), target;
  int complete;
  char err[256];
  if (id) return id;
  if (h.tag) id = cparse_tagref(P, h.kind, h.tag, h.tlen, &h.ttok);
  cparse_members(P);
  cparse_next(P);
  cparse_attrs(P, &h.attr);
  if (sp->attr.packed) h.attr.packed = 1;
  if (sp->attr.align > h.attr.align) h.attr.align = sp->attr.align;
  /* A complete record is redefined into a scratch one, then compared. */
  complete = id && !(ctype_get(S, id)->flags & CTF_INCOMPLETE);
  target = id && !complete ? id : ctype_newrecord(S, h.kind, NULL);
  if (!target) cparse_oom(P);
  if (ctype_setfields(S, target, P->nfl > h.start ? P->fl + h.start : NULL,
                      P->nfl - h.start, S->pack, h.attr.align,
                      h.attr.packed ? CTF_PACKED : 0, err))
    cparse_err(P, &h.ttok, 0, "%s", err);
  if (complete && !cparse_samerec(S, ctype_get(S, id), ctype_get(S, target), 0))
    cparse_err(P, &h.ttok, 0, "redefinition of '%s %.*s'", cparse_kindname(h.kind),
               (int)h.tlen, h.tag);
  cparse_tagend(P, &h);
  sp->anonrec = h.tag == NULL;
  return id ? id : target;
}

static int cparse_sameconsts(CTState *S, CTypeID id, const CField *c, uint32_t n) {
  const CType *ct = ctype_get(S, id);
  uint32_t i;
  if (ct->kind != CT_ENUM || ct->nfield != n) return 0;
  for (i = 0; i < n; i++) {
    const CField *f = ctype_field(S, ct, i);
    if (!cparse_samestr(f->name, c[i].name) || f->value != c[i].value) return 0;
  }
  return 1;
}

/* The constants of an enum body, pushed on the field stack. */
static void cparse_enumbody(CPState *P, CPAttr *a) {
  int64_t next = 0;
  uint32_t i;
  while (P->tok.tok != '}') {
    CLexTok nt = P->tok;
    if (P->tok.tok == TK_EOF) cparse_expect(P, '}');
    const char *s, *name;
    size_t len;
    CField *f;
    cparse_ident(P, &s, &len);
    cparse_attrs(P, a);
    if (P->tok.tok == '=') {
      cparse_next(P);
      next = cparse_cond(P).v;
    }
    name = cparse_intern(P, s, len);
    for (i = P->scope; i < P->nfl; i++)
      if (strcmp(P->fl[i].name, name) == 0)
        cparse_err(P, &nt, 0, "redefinition of '%s'", name);
    f = cparse_pushfield(P);
    f->name = name;
    f->type = CTID_INT;
    f->flags = CFF_CONSTVAL;
    f->value = next;
    next = (int64_t)((uint64_t)next + 1);
    if (P->tok.tok != ',') break;
    cparse_next(P);
  }
  cparse_skip(P, '}');
  cparse_attrs(P, a);
}

/* enum: constants are declared globally (also from inside a struct). */
static CTypeID cparse_enum(CPState *P) {
  CTState *S = P->S;
  CPTag h;
  CTypeID id = cparse_taghead(P, &h, CT_ENUM);
  const CField *c;
  uint32_t n, i;
  int reuse = 0;
  char err[256];
  if (id) return id;
  cparse_enumbody(P, &h.attr);
  c = P->fl + h.start;
  n = P->nfl - h.start;
  if (h.tag) {            /* a complete enum may only be repeated */
    id = cparse_tagref(P, CT_ENUM, h.tag, h.tlen, &h.ttok);
    reuse = !(ctype_get(S, id)->flags & CTF_INCOMPLETE);
    if (reuse && !cparse_sameconsts(S, id, c, n))
      cparse_err(P, &h.ttok, 0, "redefinition of 'enum %.*s'", (int)h.tlen, h.tag);
  } else if (n) {         /* an identical anonymous enum is reused */
    const CName *o = ctype_lookup(S, c[0].name, strlen(c[0].name));
    if (o && o->kind == CN_CONST && ctype_get(S, o->type)->kind == CT_ENUM &&
        !ctype_get(S, o->type)->name && cparse_sameconsts(S, o->type, c, n))
      id = o->type, reuse = 1;
  }
  if (!reuse) {
    if (!id && (id = ctype_newrecord(S, CT_ENUM, NULL)) == 0) cparse_oom(P);
    if (ctype_setenum(S, id, n ? c : NULL, n, err)) cparse_err(P, &h.ttok, 0, "%s", err);
  }
  for (i = 0; i < n; i++) {
    c = P->fl + h.start + i;
    cparse_declare(P, &h.ttok, c->name, CN_CONST, id, 0, c->value, NULL);
  }
  cparse_tagend(P, &h);
  return id;
}

/* Check and add one type specifier word. */
static void cparse_specword(CPState *P, CPSpec *sp) {
  const uint8_t *c = sp->cnt;
  int base, sign, shlo, bad;
#define W(t) c[TK_##t - TK_VOID]
  if (sp->id) cparse_errnear(P, "invalid combination of type specifiers");
  sp->cnt[P->tok.tok - TK_VOID]++;
  sp->nwords++;
  base = W(VOID) + W(BOOL) + W(CHAR) + W(INT) + W(FLOAT) + W(DOUBLE) +
         W(INT8) + W(INT16) + W(INT32) + W(INT64);
  sign = W(SIGNED) + W(UNSIGNED);
  shlo = W(SHORT) + W(LONG);
  bad = base > 1 || sign > 1 || W(LONG) > 2 || W(SHORT) > 1 || W(COMPLEX) > 1 ||
        (W(SHORT) && W(LONG)) ||
        (shlo && (W(VOID) || W(BOOL) || W(CHAR) || W(FLOAT) || base - W(INT) - W(DOUBLE) - W(CHAR) > 0)) ||
        (W(DOUBLE) && (W(SHORT) || W(LONG) > 1)) ||
        (sign && (W(VOID) || W(BOOL) || W(FLOAT) || W(DOUBLE) || W(COMPLEX))) ||
        (W(COMPLEX) && (shlo || base - W(FLOAT) - W(DOUBLE) > 0));
  if (bad) cparse_errnear(P, "invalid combination of type specifiers");
  cparse_next(P);
}

static CTypeID cparse_specresolve(const CPSpec *sp) {
  const uint8_t *c = sp->cnt;
  int u = W(UNSIGNED);
  if (W(VOID)) return CTID_VOID;
  if (W(BOOL)) return CTID_BOOL;
  if (W(COMPLEX)) return W(FLOAT) ? CTID_CFLOAT : CTID_CDOUBLE;
  if (W(FLOAT)) return CTID_FLOAT;
  if (W(DOUBLE)) return W(LONG) ? CTID_LDOUBLE : CTID_DOUBLE;
  if (W(CHAR)) return W(SIGNED) ? CTID_SCHAR : u ? CTID_UCHAR : CTID_CHAR;
  if (W(INT8)) return u ? CTID_UCHAR : CTID_SCHAR;
  if (W(SHORT) || W(INT16)) return u ? CTID_USHORT : CTID_SHORT;
  if (W(INT64) || W(LONG) == 2) return u ? CTID_UINT64 : CTID_INT64;
  if (W(LONG)) return u ? CTID_ULONG : CTID_LONG;
  return u ? CTID_UINT : CTID_INT;
#undef W
}

static void cparse_declspec(CPState *P, CPSpec *sp) {
  memset(sp, 0, sizeof *sp);
  cparse_enter(P);
  for (;;) {
    int t = P->tok.tok;
    if (t >= TK_VOID && t <= TK_INT64) cparse_specword(P, sp);
    else if (t == TK_CONST) { sp->quals |= CTF_CONST; cparse_next(P); }
    else if (t == TK_VOLATILE) { sp->quals |= CTF_VOLATILE; cparse_next(P); }
    else if (t == TK_RESTRICT) cparse_next(P);
    else if (t >= TK_TYPEDEF && t <= TK_AUTO) {
      sp->storage |= t == TK_TYPEDEF ? SC_TYPEDEF : t == TK_EXTERN ? SC_EXTERN
                   : t == TK_STATIC ? SC_STATIC : SC_OTHER;
      cparse_next(P);
    } else if (t == TK_ATTRIBUTE || t == TK_DECLSPEC || t == TK_EXTENSION || t == TK_IGNORED)
      cparse_attrs(P, &sp->attr);
    else if (t == TK_STRUCT || t == TK_UNION || t == TK_ENUM) {
      if (sp->id || sp->nwords) cparse_errnear(P, "invalid combination of type specifiers");
      sp->id = t == TK_ENUM ? cparse_enum(P) : cparse_record(P, sp);
    } else if (t == TK_NAME && !sp->id && !sp->nwords) {
      const CName *n = ctype_lookup(P->S, P->tok.s, P->tok.len);
      if (n == NULL || n->kind != CN_TYPEDEF) break;
      sp->id = n->type;
      sp->quals |= n->quals;
      cparse_next(P);
    } else if (t == TK_PARAM && !sp->id && !sp->nwords) {
      sp->id = cparse_param(P, CPP_TYPE)->type;
      cparse_next(P);
    } else break;
  }
  if (!sp->id) {
    if (sp->nwords) sp->id = cparse_specresolve(sp);
    else if (P->tok.tok == TK_NAME)
      cparse_err(P, &P->tok, 0, "'%.*s' is undeclared", (int)P->tok.len, P->tok.s);
    else cparse_unexpected(P);
  }
  cparse_applyattr(P, &sp->id, &sp->attr);
  cparse_leave(P);
}

/* ---------------------------------------------------------------------- */
/* Declarators.  Operations are recorded in the order they apply to the   */
/* base type: the pointers, then the suffixes right to left, then what a  */
/* parenthesised inner declarator adds.                                   */

static unsigned cparse_ptrquals(CPState *P, CPAttr *a) {
  unsigned q = 0;
  for (;;) {
    int t = P->tok.tok;
    if (t == TK_CONST) q |= CTF_CONST;
    else if (t == TK_VOLATILE) q |= CTF_VOLATILE;
    else if (t == TK_ATTRIBUTE || t == TK_DECLSPEC || t == TK_IGNORED || t == TK_EXTENSION) {
      cparse_attrs(P, a);
      continue;
    } else if (t != TK_RESTRICT) return q;
    cparse_next(P);
  }
}

/* After '(' in a declarator: a nested declarator or a parameter list? */
static int cparse_isnested(CPState *P, int mode) {
  const CLexTok *t;
  if (mode == DECL_NAMED) return 1;   /* the name must be inside */
  t = cparse_peek(P);
  switch (t->tok) {
  case '*': case '&': case '(': case '^':
  case TK_ATTRIBUTE: case TK_DECLSPEC: case TK_IGNORED:
    return 1;
  case TK_NAME:
    return mode != DECL_ABSTRACT && !cparse_istype(P, t);
  case TK_PARAM:
    return mode != DECL_ABSTRACT && cparse_paramkind(P) != CPP_TYPE;
  default:
    return 0;
  }
}

static void cparse_arrayop(CPState *P) {
  unsigned flags = 0;
  size_t n = 0;
  cparse_next(P);
  while (P->tok.tok == TK_CONST || P->tok.tok == TK_VOLATILE ||
         P->tok.tok == TK_RESTRICT || P->tok.tok == TK_STATIC)
    cparse_next(P);       /* parameter array qualifiers: the array decays */
  if (P->tok.tok == ']') flags = CTF_INCOMPLETE;
  else if (P->inparams && (P->tok.tok == '*' || (P->tok.tok == TK_NAME &&
           !ctype_lookup(P->S, P->tok.s, P->tok.len)))) {
    /* C99 [*] or [n] naming another parameter: decays anyway */
    while (P->tok.tok != ']' && P->tok.tok != TK_EOF) cparse_next(P);
    flags = CTF_INCOMPLETE;
  }
  else if (P->tok.tok == '?') { flags = CTF_VLA; cparse_next(P); }
  else n = cparse_count(P, "size of array");
  cparse_skip(P, ']');
  cparse_pushop(P, OP_ARR, 0, flags, n, 0, 0);
}

static void cparse_funcop(CPState *P) {
  uint32_t p0 = P->nfl;
  unsigned flags = 0;
  cparse_next(P);
  P->inparams++;
  while (P->tok.tok != ')') {
    CPSpec sp;
    CPDecl d;
    const CType *ct;
    if (P->tok.tok == TK_EOF) cparse_expect(P, ')');
    if (P->tok.tok == TK_ELLIPSIS) {
      flags = CTF_VARIADIC;
      cparse_next(P);
      break;
    }
    cparse_declspec(P, &sp);
    cparse_declinit(P, &d, &sp);
    cparse_declarator(P, &d, DECL_EITHER);
    cparse_attrs(P, &d.attr);
    cparse_applyattr(P, &d.id, &d.attr);
    ct = ctype_get(P->S, d.id);
    if (ct->kind == CT_VOID) {   /* f(void) */
      if (P->nfl != p0 || d.name || P->tok.tok != ')')
        cparse_err(P, &d.ntok, 1, "invalid use of 'void'");
      break;
    }
    if (ct->kind == CT_ARRAY) d.id = ctype_ptr(P->S, ct->child, ct->flags & CTF_QUALS);
    else if (ct->kind == CT_FUNC) d.id = ctype_ptr(P->S, d.id, 0);
    if (!d.id) cparse_oom(P);
    cparse_pushfield(P)->type = d.id;
    if (P->tok.tok != ',') break;
    cparse_next(P);
  }
  P->inparams--;
  cparse_skip(P, ')');
  cparse_pushop(P, OP_FUNC, 0, flags, 0, p0, P->nfl - p0);
}

static void cparse_reverse(CPOp *o, uint32_t a, uint32_t b) {
  while (a + 1 < b) {
    CPOp t = o[a];
    o[a++] = o[--b];
    o[b] = t;
  }
}

static void cparse_declops(CPState *P, CPDecl *d, int mode) {
  uint32_t a;
  cparse_enter(P);
  for (;;) {
    int t = P->tok.tok;
    if (t == '*' || t == '&') {
      unsigned q;
      cparse_next(P);
      q = cparse_ptrquals(P, &d->attr);
      cparse_pushop(P, t == '*' ? OP_PTR : OP_REF, q, 0, 0, 0, 0);
    } else if (t == TK_ATTRIBUTE || t == TK_DECLSPEC || t == TK_IGNORED || t == TK_EXTENSION)
      cparse_attrs(P, &d->attr);
    else break;
  }
  a = P->nops;
  if (P->tok.tok == '(' && cparse_isnested(P, mode)) {
    cparse_next(P);
    cparse_declops(P, d, mode);
    cparse_skip(P, ')');
  } else if (P->tok.tok == TK_NAME || (P->tok.tok == TK_PARAM && mode != DECL_ABSTRACT)) {
    if (mode == DECL_ABSTRACT) cparse_unexpected(P);
    d->ntok = P->tok;
    cparse_ident(P, &d->name, &d->nlen);
  } else if (mode == DECL_NAMED) cparse_errnear(P, "identifier expected");
  {
    uint32_t b = P->nops;
    for (;;) {
      if (P->tok.tok == '[') cparse_arrayop(P);
      else if (P->tok.tok == '(') cparse_funcop(P);
      else break;
    }
    /* [a,b) inner ops, [b,n) suffixes: make it suffixes reversed, inner */
    cparse_reverse(P->ops, a, b);
    cparse_reverse(P->ops, a, P->nops);
  }
  cparse_leave(P);
}

static void cparse_applyops(CPState *P, CPDecl *d, uint32_t base) {
  CTState *S = P->S;
  CTypeID id = d->id;
  unsigned q = d->quals & CTF_QUALS;
  uint32_t i;
  char buf[64];
  for (i = base; i < P->nops; i++) {
    const CPOp *op = &P->ops[i];
    const CType *ct = ctype_get(S, id);
    switch (op->op) {
    case OP_PTR: case OP_REF:
      if (ct->kind == CT_REF) cparse_errnear(P, "pointer or reference to reference");
      id = op->op == OP_PTR ? ctype_ptr(S, id, q) : ctype_ref(S, id, q);
      q = op->quals;
      break;
    case OP_ARR:
      if (ct->kind == CT_VOID || ct->kind == CT_FUNC || ct->kind == CT_REF ||
          (ct->kind == CT_ARRAY && (ct->flags & (CTF_INCOMPLETE|CTF_VLA))))
        cparse_errnear(P, "array of invalid type '%s'", ctype_repr(S, id, buf, sizeof buf));
      if ((op->flags & CTF_VLA) && i + 1 != P->nops)
        cparse_errnear(P, "'[?]' is only allowed outermost");
      if (ct->size && op->n > CPARSE_MAXSIZE / ct->size)
        cparse_errnear(P, "size of array is too large");
      id = ctype_array(S, id, op->n, q | op->flags);   /* q: element quals */
      break;
    default:
      if (ct->kind == CT_FUNC || ct->kind == CT_ARRAY)
        cparse_errnear(P, "function returning '%s'", ctype_repr(S, id, buf, sizeof buf));
      id = ctype_func(S, id, op->np ? P->fl + op->p0 : NULL, op->np, op->flags);
      q = 0;
    }
    if (!id) cparse_oom(P);
  }
  d->id = id;
  d->quals = q;
}

static void cparse_declarator(CPState *P, CPDecl *d, int mode) {
  uint32_t base = P->nops, fbase = P->nfl;
  cparse_declops(P, d, mode);
  cparse_applyops(P, d, base);
  P->nops = base;
  P->nfl = fbase;
}

static CTypeID cparse_typename(CPState *P) {
  CPSpec sp;
  CPDecl d;
  CLexTok st = P->tok;
  cparse_declspec(P, &sp);
  if (sp.storage) cparse_err(P, &st, 1, "storage class in a type name");
  cparse_declinit(P, &d, &sp);
  cparse_declarator(P, &d, DECL_ABSTRACT);
  cparse_attrs(P, &d.attr);
  cparse_applyattr(P, &d.id, &d.attr);
  return d.id;
}

/* ---------------------------------------------------------------------- */
/* Top level.                                                             */

static void cparse_skipbody(CPState *P) {
  int lvl = 0;
  do {
    if (P->tok.tok == '{') lvl++;
    else if (P->tok.tok == '}') lvl--;
    else if (P->tok.tok == TK_EOF) cparse_expect(P, '}');
    cparse_next(P);
  } while (lvl > 0);
}

static void cparse_decl(CPState *P) {
  CPSpec sp;
  int first = 1;
  cparse_declspec(P, &sp);
  if (P->tok.tok == ';' || P->tok.tok == TK_EOF) { cparse_skip(P, ';'); return; }
  for (;;) {
    CPDecl d;
    const char *name;
    const CType *ct;
    cparse_declinit(P, &d, &sp);
    cparse_declarator(P, &d, DECL_NAMED);
    cparse_attrs(P, &d.attr);
    cparse_applyattr(P, &d.id, &d.attr);
    name = cparse_intern(P, d.name, d.nlen);
    ct = ctype_get(P->S, d.id);
    if (sp.storage & SC_TYPEDEF) {
      cparse_declare(P, &d.ntok, name, CN_TYPEDEF, d.id, d.quals, 0, NULL);
    } else if (ct->kind == CT_FUNC) {
      cparse_declare(P, &d.ntok, name, CN_FUNC, d.id, 0, 0, d.attr.sym);
      if (first && P->tok.tok == '{') { cparse_skipbody(P); return; }
    } else if (P->tok.tok == '=') {  /* (static) const integer constant */
      CPVal v;
      if (!(d.quals & CTF_CONST) || !ctype_isint(ct))
        cparse_err(P, &d.ntok, 0, "'%s' cannot be initialised (only integer constants can)", name);
      cparse_next(P);
      v = cparse_cast(P, cparse_cond(P), d.id);
      cparse_declare(P, &d.ntok, name, CN_CONST, d.id, 0, v.v, NULL);
    } else {
      if (ct->kind == CT_VOID) cparse_err(P, &d.ntok, 0, "variable '%s' declared void", name);
      cparse_declare(P, &d.ntok, name, CN_VAR, d.id, d.quals, 0, d.attr.sym);
    }
    first = 0;
    if (P->tok.tok != ',') break;
    cparse_next(P);
  }
  cparse_skip(P, ';');
}

/* #define NAME <integer constant expression> */
static void cparse_define(CPState *P) {
  CLexTok nt;
  CPVal v;
  CTypeID id;
  cparse_next(P);
  if (P->tok.tok != TK_NAME) cparse_errnear(P, "macro name expected");
  nt = P->tok;
  P->defname = nt.s;
  P->deflen = nt.len;
  cparse_next(P);
  if (P->tok.tok == '(' && P->tok.s == nt.s + nt.len)
    cparse_err(P, &nt, 0, "function-like macro '%.*s' is not supported", (int)nt.len, nt.s);
  v = cparse_cond(P);
  if (P->tok.tok != TK_EOL && P->tok.tok != TK_EOF) cparse_notconst(P);
  if (v.t == VT_U64 && v.v < 0) id = CTID_UINT64;
  else if ((v.t & VT_UNS) ? (uint64_t)v.v <= INT32_MAX : (v.v >= INT32_MIN && v.v <= INT32_MAX))
    id = CTID_INT;
  else id = CTID_INT64;
  P->defname = NULL;
  cparse_declare(P, &nt, cparse_intern(P, nt.s, nt.len), CN_CONST, id, 0, v.v, NULL);
}

static unsigned cparse_packval(CPState *P) {
  size_t v = cparse_count(P, "alignment");
  if (v > 16 || (v & (v - 1))) cparse_errnear(P, "invalid alignment for '#pragma pack'");
  return (unsigned)v;
}

/* #pragma pack(N) / pack() / pack(push[, N]) / pack(pop); others ignored. */
static void cparse_pragma(CPState *P) {
  CTState *S = P->S;
  cparse_next(P);
  if (!cparse_isword(&P->tok, "pack")) {
    while (P->tok.tok != TK_EOL && P->tok.tok != TK_EOF) cparse_next(P);
    return;
  }
  cparse_next(P);
  cparse_skip(P, '(');
  if (cparse_isword(&P->tok, "push")) {
    cparse_next(P);
    if (S->npack >= (int)(sizeof S->packstack / sizeof S->packstack[0]))
      cparse_errnear(P, "'#pragma pack' stack overflow");
    S->packstack[S->npack++] = S->pack;
    if (P->tok.tok == ',') {
      cparse_next(P);
      S->pack = cparse_packval(P);
    }
  } else if (cparse_isword(&P->tok, "pop")) {
    cparse_next(P);
    if (S->npack > 0) S->pack = S->packstack[--S->npack];
  } else if (cparse_isword(&P->tok, "show")) {
    cparse_next(P);
  } else S->pack = P->tok.tok == ')' ? 0 : cparse_packval(P);
  cparse_skip(P, ')');
}

static void cparse_directive(CPState *P) {
  clex_ppbegin(&P->lex, P->tok.line);
  cparse_next(P);
  if (cparse_isword(&P->tok, "define")) cparse_define(P);
  else if (cparse_isword(&P->tok, "pragma")) cparse_pragma(P);
  else if (P->tok.tok != TK_EOL && P->tok.tok != TK_EOF)
    cparse_errnear(P, "unsupported preprocessor directive");
  if (P->tok.tok != TK_EOL && P->tok.tok != TK_EOF) cparse_errnear(P, "end of line expected");
  clex_ppend(&P->lex);
  if (P->hasahead && P->ahead.tok == TK_EOL) P->hasahead = 0;
  cparse_next(P);
}

static void cparse_cdefmain(CPState *P) {
  cparse_next(P);
  while (P->tok.tok != TK_EOF) {
    if (P->tok.tok == '#' && P->tok.bol) cparse_directive(P);
    else if (P->tok.tok == ';') cparse_next(P);
    else cparse_decl(P);
  }
}

static void cparse_typemain(CPState *P) {
  cparse_next(P);
  P->out = cparse_typename(P);
  if (P->tok.tok != TK_EOF) cparse_errnear(P, "unexpected symbol");
}

/* ---------------------------------------------------------------------- */
/* Entry points.                                                          */

/* The only setjmp: its function modifies no local after it. */
static int cparse_run(CPState *P, void (*fn)(CPState *)) {
  if (setjmp(P->jb) == 0) {
    fn(P);
    return 0;
  }
  return -1;
}

static int cparse_do(CTState *S, const char *src, size_t len, const CPParam *params,
                     int nparams, CPError *err, void (*fn)(CPState *), CTypeID *out) {
  CPState P;
  int own = S->txn == NULL, r;
  memset(err, 0, sizeof *err);
  memset(&P, 0, sizeof P);
  P.S = S;
  clex_init(&P.lex, src, len);
  P.params = params;
  P.nparams = params ? nparams : 0;
  P.err = err;
  if (own && ctype_begin(S) != 0) {
    err->line = 1;
    snprintf(err->token, sizeof err->token, "<eof>");
    snprintf(err->msg, sizeof err->msg, "not enough memory");
    return -1;
  }
  r = cparse_run(&P, fn);
  if (own) {
    if (r) ctype_rollback(S);
    else ctype_commit(S);
  }
  if (r == 0 && out) *out = P.out;
  free(P.ops);
  free(P.fl);
  return r;
}

int cparse_cdef(CTState *S, const char *src, size_t len,
                const CPParam *params, int nparams, CPError *err) {
  return cparse_do(S, src, len, params, nparams, err, cparse_cdefmain, NULL);
}

int cparse_type(CTState *S, const char *src, size_t len,
                const CPParam *params, int nparams, CTypeID *out, CPError *err) {
  return cparse_do(S, src, len, params, nparams, err, cparse_typemain, out);
}
