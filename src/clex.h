/*
** clex.h: the C lexer (clex.c) as the parser (cparse.c) sees it.  Tokens
** are the parser's business alone, so they live here and not in cffi.h,
** which every file includes.
*/
#ifndef CLEX_H
#define CLEX_H

#include "cffi.h"

#pragma GCC visibility push(hidden)

/* Tokens.  Single characters stand for themselves. */
enum {
  TK_EOF = 256, TK_EOL, TK_NAME, TK_NUM, TK_STR, TK_PARAM, TK_ELLIPSIS,
  TK_SHL, TK_SHR, TK_LE, TK_GE, TK_EQ, TK_NE, TK_AND, TK_OR,
  /* type specifier words, in this order (the parser counts them by index) */
  TK_VOID, TK_BOOL, TK_CHAR, TK_SHORT, TK_INT, TK_LONG, TK_FLOAT, TK_DOUBLE,
  TK_SIGNED, TK_UNSIGNED, TK_COMPLEX, TK_INT8, TK_INT16, TK_INT32, TK_INT64,
  TK_CONST, TK_VOLATILE, TK_RESTRICT, TK_STRUCT, TK_UNION, TK_ENUM,
  TK_TYPEDEF, TK_EXTERN, TK_STATIC, TK_INLINE, TK_AUTO,
  TK_ATTRIBUTE, TK_DECLSPEC, TK_ASM, TK_EXTENSION, TK_IGNORED,
  TK_SIZEOF, TK_ALIGNOF
};

/* Value types of integer constants: bit 0 unsigned, bit 1 64-bit. */
enum { VT_INT, VT_UINT, VT_I64, VT_U64, VT_UNS = 1, VT_64 = 2 };

typedef struct CLexTok {
  int tok, line;
  int bol;             /* first token of a line (for # directives) */
  int bad;             /* TK_NUM: malformed number or character constant */
  int vt;              /* TK_NUM: VT_* */
  int64_t v;           /* TK_NUM: value */
  const char *s;       /* as written */
  size_t len;
} CLexTok;

typedef struct CLexState {
  const char *p, *end;
  int line, bol;
  int inpp, ppline;    /* inside a # line: its end reads as TK_EOL */
  CLexTok held;        /* first token of the line after a # line */
  int hasheld;
} CLexState;

#define clex_isdigit(c)  ((c) >= '0' && (c) <= '9')

/* Start reading src (NULL: empty) at line 1. */
void clex_init(CLexState *X, const char *src, size_t len);
/* Read the next token into t.  Never raises: returns NULL, or a message
** ("unfinished comment") with t set to the offending text. */
const char *clex_next(CLexState *X, CLexTok *t);
/* Between these two the lexer is inside a `#` line starting at line: the
** first token of the next line is held back and TK_EOL shows instead. */
void clex_ppbegin(CLexState *X, int line);
void clex_ppend(CLexState *X);
/* A token as messages show it ("<eof>", "<eol>", "int"), into buf. */
void clex_tokstr(const CLexTok *t, char *buf, size_t n);

#pragma GCC visibility pop

#endif
