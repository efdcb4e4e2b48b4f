/*
** clex.c: the lexer of C declarations and type names: tokens, keywords,
** integer, character and string literals, comments, line continuations,
** and the end of `#` lines.
**
** Plain C that never raises and never jumps: an error comes back from
** clex_next as a message, and the parser reports it.
*/

#include <stdio.h>
#include <string.h>

#include "clex.h"

#define CLEX_MAXSHOWN  24             /* bytes of a bad literal in messages */

#define KW(s, t) { s, sizeof(s) - 1, t }
static const struct { const char *s; size_t len; int tok; } clex_kw[] = {
  KW("void", TK_VOID), KW("_Bool", TK_BOOL), KW("bool", TK_BOOL),
  KW("char", TK_CHAR), KW("short", TK_SHORT), KW("int", TK_INT),
  KW("long", TK_LONG), KW("float", TK_FLOAT), KW("double", TK_DOUBLE),
  KW("signed", TK_SIGNED), KW("__signed", TK_SIGNED), KW("__signed__", TK_SIGNED),
  KW("unsigned", TK_UNSIGNED), KW("_Complex", TK_COMPLEX),
  KW("complex", TK_COMPLEX), KW("__complex", TK_COMPLEX),
  KW("__complex__", TK_COMPLEX), KW("__int8", TK_INT8), KW("__int16", TK_INT16),
  KW("__int32", TK_INT32), KW("__int64", TK_INT64),
  KW("const", TK_CONST), KW("__const", TK_CONST), KW("__const__", TK_CONST),
  KW("volatile", TK_VOLATILE), KW("__volatile", TK_VOLATILE),
  KW("__volatile__", TK_VOLATILE), KW("restrict", TK_RESTRICT),
  KW("__restrict", TK_RESTRICT), KW("__restrict__", TK_RESTRICT),
  KW("struct", TK_STRUCT), KW("union", TK_UNION), KW("enum", TK_ENUM),
  KW("typedef", TK_TYPEDEF), KW("extern", TK_EXTERN), KW("static", TK_STATIC),
  KW("inline", TK_INLINE), KW("__inline", TK_INLINE), KW("__inline__", TK_INLINE),
  KW("__forceinline", TK_INLINE), KW("auto", TK_AUTO), KW("register", TK_AUTO),
  KW("__thread", TK_AUTO), KW("_Thread_local", TK_AUTO),
  KW("__attribute__", TK_ATTRIBUTE), KW("__attribute", TK_ATTRIBUTE),
  KW("__declspec", TK_DECLSPEC), KW("asm", TK_ASM), KW("__asm", TK_ASM),
  KW("__asm__", TK_ASM), KW("__extension__", TK_EXTENSION),
  KW("__cdecl", TK_IGNORED), KW("__stdcall", TK_IGNORED),
  KW("__fastcall", TK_IGNORED), KW("__thiscall", TK_IGNORED),
  KW("__vectorcall", TK_IGNORED), KW("__ptr32", TK_IGNORED),
  KW("__ptr64", TK_IGNORED), KW("__w64", TK_IGNORED), KW("_Noreturn", TK_IGNORED),
  KW("sizeof", TK_SIZEOF), KW("__alignof__", TK_ALIGNOF),
  KW("__alignof", TK_ALIGNOF), KW("_Alignof", TK_ALIGNOF), KW("alignof", TK_ALIGNOF)
};

/* ---------------------------------------------------------------------- */
/* Characters.                                                            */

static int clex_isalpha(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static int clex_isalnum(int c) { return clex_isalpha(c) || clex_isdigit(c); }

static int clex_digit(int c) {
  if (clex_isdigit(c)) return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return -1;
}

/* t, from t->s to where reading stopped, is the offending text. */
static const char *clex_fail(CLexState *X, CLexTok *t, const char *what) {
  t->tok = TK_STR;
  t->len = (size_t)(X->p - t->s);
  if (t->len > CLEX_MAXSHOWN) t->len = CLEX_MAXSHOWN;
  return what;
}

/* Whitespace, comments and line continuations. */
static const char *clex_skip(CLexState *X, CLexTok *t) {
  const char *e = X->end;
  while (X->p < e) {
    const char *p = X->p;
    if (*p == '\n') { X->line++; X->bol = 1; X->p++; }
    else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v') X->p++;
    else if (*p == '\\' && p + 1 < e && p[1] == '\n') { X->line++; X->p += 2; }
    else if (*p == '\\' && p + 2 < e && p[1] == '\r' && p[2] == '\n') { X->line++; X->p += 3; }
    else if (*p == '/' && p + 1 < e && p[1] == '/') {
      while (X->p < e && *X->p != '\n') X->p++;
    } else if (*p == '/' && p + 1 < e && p[1] == '*') {
      int line = X->line;
      for (X->p += 2; ; X->p++) {
        if (X->p + 1 >= e) {
          X->p = e;
          memset(t, 0, sizeof *t);
          t->s = p;
          t->line = line;
          return clex_fail(X, t, "unfinished comment");
        }
        if (X->p[0] == '*' && X->p[1] == '/') break;
        if (*X->p == '\n') X->line++;
      }
      X->p += 2;
    } else break;
  }
  return NULL;
}

static int clex_keyword(const char *s, size_t n) {
  size_t i;
  if (s[0] != '_' && (s[0] < 'a' || s[0] > 'z')) return TK_NAME;
  for (i = 0; i < sizeof clex_kw / sizeof clex_kw[0]; i++)
    if (clex_kw[i].len == n && memcmp(clex_kw[i].s, s, n) == 0) return clex_kw[i].tok;
  return TK_NAME;
}


/* ---------------------------------------------------------------------- */
/* Literals.                                                              */

/* A pp-number; validated here, complained about only when used (inline
** function bodies are skipped and may hold floats). */
static void clex_number(CLexState *X, CLexTok *t) {
  const char *p = X->p, *q = p;
  uint64_t v = 0;
  int base = 10, nd = 0, ovf = 0, u = 0, l = 0;
  while (p < X->end && (clex_isalnum(*p) || *p == '.')) p++;
  X->p = p;
  if (q[0] == '0' && q + 1 < p && (q[1] == 'x' || q[1] == 'X')) { base = 16; q += 2; }
  else if (q[0] == '0' && q + 1 < p && (q[1] == 'b' || q[1] == 'B')) { base = 2; q += 2; }
  else if (q[0] == '0') base = 8;
  for (; q < p; q++, nd++) {
    int d = clex_digit(*q);
    if (d < 0 || d >= base) break;
    if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) ovf = 1;
    v = v * (uint64_t)base + (uint64_t)d;
  }
  for (; q < p; q++) {
    if ((*q == 'u' || *q == 'U') && !u) u = 1;
    else if ((*q == 'l' || *q == 'L') && l < 2) l++;
    else break;
  }
  t->bad = q != p || nd == 0 || ovf;
  t->v = (int64_t)v;
  if (u) t->vt = !l && v <= UINT32_MAX ? VT_UINT : VT_U64;
  else if (!l && v <= INT32_MAX) t->vt = VT_INT;
  else if (!l && base != 10 && v <= UINT32_MAX) t->vt = VT_UINT;
  else t->vt = v <= INT64_MAX ? VT_I64 : VT_U64;
}

/* One (possibly escaped) character of a literal; *p is advanced. */
static unsigned clex_escape(CLexState *X, const char **pp, int *bad) {
  static const char esc[] = "ntrabfv", val[] = "\n\t\r\a\b\f\v";
  const char *p = *pp, *e = X->end, *k;
  unsigned c;
  int i;
  if (*p != '\\') { *pp = p + 1; return (unsigned char)*p; }
  if (++p >= e) { *pp = p; return 0; }
  if ((k = memchr(esc, *p, 7)) != NULL) c = (unsigned char)val[k - esc];
  else if (*p == 'x') {
    for (c = 0, i = 0, p++; p < e && clex_digit(*p) >= 0 && clex_digit(*p) < 16; p++, i++)
      if ((c = c * 16 + (unsigned)clex_digit(*p)) > 255) *bad = 1, c = 0;
    *bad |= i == 0;
    *pp = p;
    return c;
  } else if (*p >= '0' && *p <= '7') {
    for (c = 0, i = 0; i < 3 && p < e && *p >= '0' && *p <= '7'; p++, i++)
      c = c * 8 + (unsigned)(*p - '0');
    *bad |= c > 255;
    *pp = p;
    return c & 255;
  } else c = (unsigned char)*p;
  *pp = p + 1;
  return c;
}

static const char *clex_quoted(CLexState *X, CLexTok *t, char q) {
  const char *p = X->p + 1;
  unsigned c = 0;
  int n = 0;
  while (p < X->end && *p != q && *p != '\n') {
    c = clex_escape(X, &p, &t->bad);
    n++;
  }
  X->p = p;
  if (p >= X->end || *p != q)
    return clex_fail(X, t, q == '"' ? "unfinished string" : "unfinished character constant");
  X->p++;
  if (q == '\'') {
    t->tok = TK_NUM;
    t->bad |= n != 1;
    t->v = (char)c;     /* plain char's signedness, as the C compiler does */
    t->vt = VT_INT;
  } else t->tok = TK_STR;
  return NULL;
}


/* ---------------------------------------------------------------------- */
/* Tokens.                                                                */

static const char *clex_scan(CLexState *X, CLexTok *t) {
  const char *p, *msg;
  int c;
  if ((msg = clex_skip(X, t)) != NULL) return msg;
  memset(t, 0, sizeof *t);
  t->bol = X->bol;
  X->bol = 0;
  t->line = X->line;
  t->s = p = X->p;
  if (p >= X->end) { t->tok = TK_EOF; return NULL; }
  c = (unsigned char)*p;
  if (clex_isalpha(c)) {
    while (p < X->end && clex_isalnum(*p)) p++;
    X->p = p;
    t->tok = clex_keyword(t->s, (size_t)(p - t->s));
  } else if (clex_isdigit(c)) {
    clex_number(X, t);
    t->tok = TK_NUM;
  } else if (c == '\'' || c == '"') {
    if ((msg = clex_quoted(X, t, (char)c)) != NULL) return msg;
  } else if (c == '.' && p + 2 < X->end && p[1] == '.' && p[2] == '.') {
    t->tok = TK_ELLIPSIS;
    X->p += 3;
  } else {
    static const struct { char a, b; int tok; } two[] = {
      {'<', '<', TK_SHL}, {'>', '>', TK_SHR}, {'<', '=', TK_LE}, {'>', '=', TK_GE},
      {'=', '=', TK_EQ}, {'!', '=', TK_NE}, {'&', '&', TK_AND}, {'|', '|', TK_OR}
    };
    size_t i;
    t->tok = c == '$' ? TK_PARAM : c;
    X->p++;
    for (i = 0; i < sizeof two / sizeof two[0] && X->p < X->end; i++)
      if (c == two[i].a && *X->p == two[i].b) { t->tok = two[i].tok; X->p++; break; }
  }
  t->len = (size_t)(X->p - t->s);
  return NULL;
}

void clex_init(CLexState *X, const char *src, size_t len) {
  memset(X, 0, sizeof *X);
  X->p = src ? src : "";
  X->end = X->p + (src ? len : 0);
  X->line = 1;
  X->bol = 1;
}

/* Inside a # line the first token of the next line is held back. */
static void clex_eol(CLexState *X, CLexTok *t) {
  t->tok = TK_EOL;
  t->len = 0;
  t->line = X->ppline;
}

const char *clex_next(CLexState *X, CLexTok *t) {
  const char *msg;
  if (X->hasheld) {
    *t = X->held;
    if (X->inpp) clex_eol(X, t);
    else X->hasheld = 0;
    return NULL;
  }
  if ((msg = clex_scan(X, t)) != NULL) return msg;
  if (X->inpp && t->bol) {
    X->held = *t;
    X->hasheld = 1;
    clex_eol(X, t);
  }
  return NULL;
}

void clex_ppbegin(CLexState *X, int line) {
  X->inpp = 1;
  X->ppline = line;
}

void clex_ppend(CLexState *X) {
  X->inpp = 0;
}

void clex_tokstr(const CLexTok *t, char *buf, size_t n) {
  if (t->tok == TK_EOF) snprintf(buf, n, "<eof>");
  else if (t->tok == TK_EOL) snprintf(buf, n, "<eol>");
  else if (t->len == 1 && ((unsigned char)t->s[0] < 32 || (unsigned char)t->s[0] > 126))
    snprintf(buf, n, "<\\%u>", (unsigned char)t->s[0]);
  else {
    size_t l = t->len < n - 1 ? t->len : n - 1;
    memcpy(buf, t->s, l);
    buf[l] = '\0';
  }
}
