/*
** ccallback.c: callbacks.  C code calls a libffi closure; its entry converts
** the C arguments to Lua, calls a Lua function and converts the result back.
**
** Rules (the README's "Callbacks" section says the same to users):
** - An explicit callback (ffi.cast / ffi.new of a function pointer type with
**   a Lua function) lives until cb:free() or until the Lua state closes.
** - An implicit callback (a Lua function passed where C expects a function
**   pointer) lives exactly as long as the Lua function: passing the same
**   function again (with the same function type) gives the same pointer;
**   once the function is collected the callback counts as freed.
** - C calling a freed callback gets no jump into freed memory: the call
**   returns the zero value of the return type and the Lua code that made
**   the outer C call gets the error "called a freed callback".  Freed
**   closures are kept in a quarantine (FIFO) and only reused once more than
**   CCB_QUARANTINE of them wait, so a stale pointer keeps hitting the error
**   for a while; after reuse it reaches the new callback.
** - An error inside the Lua function never unwinds through C frames: it is
**   caught, C gets the zero value, and the error (a string gets the
**   callback's traceback appended; other values are re-raised unchanged) is
**   raised in Lua as soon as the outer C call returns (ccall.c calls
**   ccallback_raise).  While such an error is pending, further calls of any
**   callback return zero without running Lua.
** - The Lua function runs on the thread making the C call in progress
**   (S->curL), so callbacks work from coroutines; with no call in progress
**   it runs on the main thread.  Yielding across a callback is an error.
** Limits: after lua_close every closure is freed, so C calling one then
** crashes (out of scope); calls from other OS threads are out of scope; an
** error caught while no cffi C call is in progress is raised after the next
** cffi C call.  Variadic callbacks are not supported.
*/
#include <stdlib.h>
#include <string.h>

#include <ffi.h>

#include "cffi.h"

#define CCB_QUARANTINE 16      /* freed closures kept before reuse */

/* Keys of CFFI_T_CALLBACKS besides the positive slots, which hold the Lua
** function of each live explicit callback. */
enum {
  CCB_K_WEAK = -1,     /* slot -> function of an implicit callback (weak) */
  CCB_K_IMP = -2,      /* function -> sentinel (ephemeron) */
  CCB_K_CODE = -3,     /* code address -> record (light userdata) */
  CCB_K_CDGEN = -4,    /* callback cdata address -> generation it owns */
  CCB_K_ERR = -5,      /* { [1] = pending error value } */
  CCB_K_SMT = -6,      /* metatable of sentinels */
  CCB_K_FREE = -7,     /* method closures */
  CCB_K_SET = -8
};

enum { CCB_NEW, CCB_LIVE, CCB_FREE };

/* One callback: owns its closure for its whole life; reused from the
** quarantine with a new type and function. */
typedef struct CCbRec {
  CTState *S;
  ffi_closure *closure;
  void *code;              /* what C calls */
  CTypeID fid;             /* function type; 0 before the first use */
  int state;               /* CCB_* */
  int implicit;
  int active;              /* entries of it running: never reuse then */
  lua_Integer slot;        /* key of its function in CFFI_T_CALLBACKS */
  uint32_t gen;            /* bumped on each reuse: stale handles see it */
  ffi_cif *cif;            /* ccall.c's, for fid: lives as long as S */
  CTypeID *argids;         /* parameter types as passed (malloc'd) */
  struct CCbRec *qnext;    /* quarantine chain */
  struct CCbRec *all;      /* every record, for ccallback_freestate */
} CCbRec;

typedef struct CCbState {
  lua_State *mainL;
  CCbRec *all;
  CCbRec *qhead, *qtail;
  size_t nquar;
  lua_Integer nslot;
} CCbState;

/* What one entry hands to the protected part. */
typedef struct CCbFrame {
  CCbRec *rec;
  void *ret;
  void **args;
} CCbFrame;

/* An implicit callback's lifetime token: the value of CCB_K_IMP[function].
** Only the function keeps it reachable, so its __gc runs when the function
** dies and frees the callbacks it lists (one per function type). */
typedef struct CCbHandle { CCbRec *rec; uint32_t gen; } CCbHandle;
typedef struct CCbSentinel {
  uint32_t n;
  CCbHandle e[];
} CCbSentinel;

/* ---- the libffi description -------------------------------------------- */

/* What the protected part of ccallback_describe works on. */
typedef struct CCbDesc {
  CTState *S;
  CTypeID fid;
  CTypeID *argids;     /* filled: parameter types as passed */
  void *cif;           /* result: ccall's shared ffi_cif */
} CCbDesc;

static int ccallback_cifp(lua_State *L) {
  CCbDesc *d = (CCbDesc *)lua_touserdata(L, 1);
  d->cif = ccall_cif(L, d->S, d->fid, d->argids);
  return 0;
}

/* ccall.c describes the function type (the cif calls use, so any record a
** call can pass works here too); its refusal gets the callback's context.
** argids: nfield entries, filled with the parameter types as passed. */
static ffi_cif *ccallback_describe(lua_State *L, CTState *S, CTypeID fid,
                                   CTypeID *argids) {
  CCbDesc d;
  d.S = S;
  d.fid = fid;
  d.argids = argids;
  d.cif = NULL;
  lua_pushcfunction(L, ccallback_cifp);
  lua_pushlightuserdata(L, &d);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    char fb[128];
    const char *msg = lua_tostring(L, -1);
    ctype_repr(S, fid, fb, sizeof(fb));
    luaL_error(L, "cannot create a callback of type '%s': %s", fb,
               msg ? msg : "not enough memory");
  }
  return (ffi_cif *)d.cif;
}

/* ---- records and the quarantine ----------------------------------------- */

static void ccallback_entry(ffi_cif *cif, void *ret, void **args, void *ud);

static void ccallback_quarantine(CCbState *cb, CCbRec *rec) {
  rec->state = CCB_FREE;
  rec->qnext = NULL;
  if (cb->qtail) cb->qtail->qnext = rec; else cb->qhead = rec;
  cb->qtail = rec;
  cb->nquar++;
}

static CCbRec *ccallback_unquarantine(CCbState *cb) {
  CCbRec *rec = cb->qhead;
  cb->qhead = rec->qnext;
  if (cb->qhead == NULL) cb->qtail = NULL;
  cb->nquar--;
  rec->qnext = NULL;
  rec->state = CCB_NEW;
  return rec;
}

/* A record with a closure, from the quarantine or new.  New records are
** linked into cb->all at once, so nothing leaks if a Lua error follows. */
static CCbRec *ccallback_getrec(lua_State *L, CTState *S, CCbState *cb) {
  CCbRec *rec;
  if (cb->nquar > CCB_QUARANTINE && !cb->qhead->active)
    return ccallback_unquarantine(cb);
  rec = (CCbRec *)calloc(1, sizeof(CCbRec));
  if (rec) {
    rec->closure = (ffi_closure *)ffi_closure_alloc(sizeof(ffi_closure), &rec->code);
    if (rec->closure == NULL) { free(rec); rec = NULL; }
  }
  if (rec == NULL) {
    if (cb->nquar > 0 && !cb->qhead->active)
      return ccallback_unquarantine(cb);
    luaL_error(L, "too many callbacks");
    return NULL;
  }
  rec->S = S;
  rec->state = CCB_NEW;
  rec->slot = ++cb->nslot;
  rec->all = cb->all;
  cb->all = rec;
  /* code address -> record, for the methods of callback cdata */
  cffi_pushtable(L, S, CFFI_T_CALLBACKS);
  lua_rawgeti(L, -1, CCB_K_CODE);
  lua_pushlightuserdata(L, rec);
  lua_rawsetp(L, -2, rec->code);
  lua_pop(L, 2);
  return rec;
}

/* Prepare a record for function type fid.  Returns it in state CCB_NEW
** (the caller makes it live once its function is stored).  The parameter
** types go through a Lua buffer first, so no C memory is pending while
** something may raise. */
static CCbRec *ccallback_alloc(lua_State *L, CTState *S, CCbState *cb,
                               CTypeID fid) {
  uint32_t n = ctype_get(S, fid)->nfield;
  size_t sz = sizeof(CTypeID) * n + 1;
  CTypeID *tmp = (CTypeID *)lua_newuserdatauv(L, sz, 0), *ids;
  ffi_cif *cif = ccallback_describe(L, S, fid, tmp);
  CCbRec *rec;
  if (cif == NULL)
    luaL_error(L, "cannot create a callback: libffi refused the function type");
  rec = ccallback_getrec(L, S, cb);
  rec->gen++;
  if (rec->fid == fid && rec->argids != NULL) {  /* same closure as before */
    lua_pop(L, 1);
    return rec;
  }
  ids = (CTypeID *)realloc(rec->argids, sz);
  if (ids == NULL) {
    ccallback_quarantine(cb, rec);
    luaL_error(L, "not enough memory");
    return NULL;
  }
  memcpy(ids, tmp, sz);
  lua_pop(L, 1);
  rec->argids = ids;
  rec->cif = cif;
  rec->fid = fid;
  if (ffi_prep_closure_loc(rec->closure, cif, ccallback_entry, rec,
                           rec->code) != FFI_OK) {
    rec->fid = 0;                      /* the cif is fine, the closure is not */
    ccallback_quarantine(cb, rec);
    luaL_error(L, "cannot create a callback: libffi refused the closure");
    return NULL;
  }
  return rec;
}

/* Make rec freed: drop its function, queue its closure for reuse. */
static void ccallback_release(lua_State *L, CTState *S, CCbRec *rec) {
  cffi_pushtable(L, S, CFFI_T_CALLBACKS);
  lua_pushnil(L);
  lua_rawseti(L, -2, rec->slot);
  lua_rawgeti(L, -1, CCB_K_WEAK);
  lua_pushnil(L);
  lua_rawseti(L, -2, rec->slot);
  lua_pop(L, 2);
  ccallback_quarantine(S->cb, rec);
}

/* ---- the entry C calls -------------------------------------------------- */

/* Push the Lua function of rec (nil once gone) above the table(s) it was
** found in: the caller's frame discards them. */
static void ccallback_pushfunc(lua_State *L, CTState *S, CCbRec *rec) {
  cffi_pushtable(L, S, CFFI_T_CALLBACKS);
  if (rec->implicit) lua_rawgeti(L, -1, CCB_K_WEAK);
  lua_rawgeti(L, -1, rec->slot);
}

/* Store the Lua result at -1 as the C return value.  Integers narrower than
** a register are widened to ffi_arg, as libffi wants from closures. */
static void ccallback_setret(lua_State *L, CTState *S, CTypeID rid, void *ret) {
  CType *ct = ctype_get(S, rid);
  if (ct->kind == CT_VOID) return;
  if (ctype_isint(ct) && ct->size < sizeof(ffi_arg)) {
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16;
            uint32_t u32; int32_t i32; uint64_t pad; } v;
    int uns;
    size_t size;
    v.pad = 0;
    cconv_tocdata(L, S, rid, &v, -1, 0);
    ct = ctype_get(S, rid);
    uns = ct->kind == CT_BOOL || (ct->flags & CTF_UNSIGNED);
    size = ct->size;
    switch (size) {
      case 1: *(ffi_arg *)ret = uns ? (ffi_arg)v.u8 : (ffi_arg)(ffi_sarg)v.i8; break;
      case 2: *(ffi_arg *)ret = uns ? (ffi_arg)v.u16 : (ffi_arg)(ffi_sarg)v.i16; break;
      default: *(ffi_arg *)ret = uns ? (ffi_arg)v.u32 : (ffi_arg)(ffi_sarg)v.i32; break;
    }
  } else {
    cconv_tocdata(L, S, rid, ret, -1, 0);
  }
}

/* The protected part of an entry: arguments, call, result. */
static int ccallback_run(lua_State *L) {
  CCbFrame *fr = (CCbFrame *)lua_touserdata(L, 1);
  CCbRec *rec = fr->rec;
  CTState *S = rec->S;
  CTypeID fid = rec->fid;
  uint32_t i, n;
  if (rec->state != CCB_LIVE) return luaL_error(L, "called a freed callback");
  ccallback_pushfunc(L, S, rec);
  if (!lua_isfunction(L, -1)) return luaL_error(L, "called a freed callback");
  n = ctype_get(S, fid)->nfield;
  luaL_checkstack(L, (int)n + LUA_MINSTACK, "too many callback arguments");
  for (i = 0; i < n; i++)
    cconv_tolua(L, S, rec->argids[i], fr->args[i], 0);
  lua_call(L, (int)n, 1);
  ccallback_setret(L, S, ctype_get(S, fid)->child, fr->ret);
  return 0;
}

/* Message handler: strings get the callback's traceback appended. */
static int ccallback_msgh(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) return 1;           /* other error values pass unchanged */
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Bytes of the return buffer C reads (0 for void). */
static size_t ccallback_retsize(CTState *S, CCbRec *rec) {
  CType *ct = ctype_get(S, ctype_get(S, rec->fid)->child);
  if (ct->kind == CT_VOID) return 0;
  if (ctype_isrecord(ct)) return ct->size;
  return ct->size > sizeof(ffi_arg) ? ct->size : sizeof(ffi_arg);
}

/* Nothing here may raise: a Lua error must not unwind through libffi and
** the C frames above it.  Only calls that cannot fail run outside the
** protected call (pushing C functions and light userdata, raw access to
** existing keys). */
static void ccallback_entry(ffi_cif *cif, void *ret, void **args, void *ud) {
  CCbRec *rec = (CCbRec *)ud;
  CTState *S = rec->S;
  lua_State *saved = S->curL;
  lua_State *L = saved ? saved : S->cb->mainL;
  size_t rsize = ccallback_retsize(S, rec);
  CCbFrame fr;
  int top, st;
  (void)cif;
  memset(ret, 0, rsize);               /* the zero value, if nothing else */
  if (S->cb_error) return;             /* an error is pending: run no Lua */
  if (rec->state != CCB_LIVE) { S->cb_error = 3; return; }
  if (!lua_checkstack(L, 4)) { S->cb_error = 2; return; }
  fr.rec = rec;
  fr.ret = ret;
  fr.args = args;
  top = lua_gettop(L);
  lua_pushcfunction(L, ccallback_msgh);
  lua_pushcfunction(L, ccallback_run);
  lua_pushlightuserdata(L, &fr);
  rec->active++;
  st = lua_pcall(L, 1, 0, top + 1);
  rec->active--;
  S->curL = saved;                     /* whatever nested calls left there */
  if (st != LUA_OK) {
    memset(ret, 0, rsize);
    /* CCB_K_ERR and its [1] exist, so these raw accesses never allocate */
    cffi_pushtable(L, S, CFFI_T_CALLBACKS);
    lua_rawgeti(L, -1, CCB_K_ERR);
    lua_pushvalue(L, -3);
    lua_rawseti(L, -2, 1);
    S->cb_error = 1;
  }
  lua_settop(L, top);
}

/* S->cb_error: 1 when the error value is stored, 2 when a callback found
** no Lua stack to run on, 3 when C called a freed callback. */
void ccallback_raise(lua_State *L, CTState *S) {
  int kind = S->cb_error;
  S->cb_error = 0;
  if (kind == 3) luaL_error(L, "called a freed callback");
  if (S->cb == NULL || kind != 1)
    luaL_error(L, "error in callback: stack overflow");
  cffi_pushtable(L, S, CFFI_T_CALLBACKS);
  lua_rawgeti(L, -1, CCB_K_ERR);
  lua_rawgeti(L, -1, 1);
  lua_pushboolean(L, 0);               /* keep the array slot, drop the value */
  lua_rawseti(L, -3, 1);
  lua_error(L);
}

/* ---- per-state setup ---------------------------------------------------- */

static int ccallback_sentinel_gc(lua_State *L);
static int ccallback_m_free(lua_State *L);
static int ccallback_m_set(lua_State *L);

static void ccallback_newclosure(lua_State *L, CTState *S, lua_CFunction f) {
  cffi_pushtable(L, S, CFFI_T_STATE);
  lua_pushcclosure(L, f, 1);
}

static void ccallback_weaktable(lua_State *L, const char *mode) {
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushstring(L, mode);
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
}

static CCbState *ccallback_state(lua_State *L, CTState *S) {
  CCbState *cb;
  int t;
  if (S->cb) return S->cb;
  cffi_pushtable(L, S, CFFI_T_CALLBACKS);
  t = lua_gettop(L);
  ccallback_weaktable(L, "v");
  lua_rawseti(L, t, CCB_K_WEAK);
  ccallback_weaktable(L, "k");
  lua_rawseti(L, t, CCB_K_IMP);
  lua_newtable(L);
  lua_rawseti(L, t, CCB_K_CODE);
  lua_newtable(L);
  lua_rawseti(L, t, CCB_K_CDGEN);
  lua_createtable(L, 1, 0);
  lua_pushboolean(L, 0);
  lua_rawseti(L, -2, 1);
  lua_rawseti(L, t, CCB_K_ERR);
  lua_createtable(L, 0, 2);
  ccallback_newclosure(L, S, ccallback_sentinel_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushliteral(L, "callback");
  lua_setfield(L, -2, "__name");
  lua_rawseti(L, t, CCB_K_SMT);
  ccallback_newclosure(L, S, ccallback_m_free);
  lua_rawseti(L, t, CCB_K_FREE);
  ccallback_newclosure(L, S, ccallback_m_set);
  lua_rawseti(L, t, CCB_K_SET);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  cb = (CCbState *)calloc(1, sizeof(CCbState));
  if (cb == NULL) {
    luaL_error(L, "not enough memory");
    return NULL;
  }
  cb->mainL = lua_tothread(L, -1);
  lua_settop(L, t - 1);
  S->cb = cb;
  return cb;
}

void ccallback_freestate(CTState *S) {
  CCbState *cb = S->cb;
  CCbRec *rec, *next;
  if (cb == NULL) return;
  for (rec = cb->all; rec != NULL; rec = next) {
    next = rec->all;
    ffi_closure_free(rec->closure);
    free(rec->argids);
    free(rec);
  }
  free(cb);
  S->cb = NULL;
}

/* ---- creating callbacks ------------------------------------------------- */

/* The function type of a function pointer type (or of a function type). */
static CTypeID ccallback_fid(lua_State *L, CTState *S, CTypeID ptrid, int idx) {
  CType *ct = ctype_get(S, ptrid);
  CTypeID fid = ptrid;
  if (ct->kind == CT_PTR) {
    fid = ct->child;
    ct = ctype_get(S, fid);
  }
  if (ct->kind != CT_FUNC || !lua_isfunction(L, idx))
    cconv_error(L, S, ptrid, idx, 0);
  if (ct->flags & CTF_VARIADIC) {
    char buf[128];
    luaL_error(L, "cannot create a callback of variadic type '%s'",
               ctype_repr(S, fid, buf, sizeof(buf)));
  }
  return fid;
}

void *ccallback_new(lua_State *L, CTState *S, CTypeID ptrid, int idx) {
  CCbState *cb;
  CCbRec *rec;
  CTypeID fid;
  CData *cd;
  int t;
  idx = lua_absindex(L, idx);
  fid = ccallback_fid(L, S, ptrid, idx);
  if (ctype_get(S, ptrid)->kind != CT_PTR) {
    ptrid = ctype_ptr(S, fid, 0);
    if (ptrid == 0) luaL_error(L, "not enough memory");
  }
  cb = ccallback_state(L, S);
  cffi_pushtable(L, S, CFFI_T_CALLBACKS);
  t = lua_gettop(L);
  cd = cdata_new(L, S, ptrid, sizeof(void *));
  cd->flags |= CDF_CALLBACK;
  /* make the cdgen key now: later stores must not fail */
  lua_rawgeti(L, t, CCB_K_CDGEN);
  lua_pushinteger(L, 0);
  lua_rawsetp(L, -2, cd);
  rec = ccallback_alloc(L, S, cb, fid);
  rec->implicit = 0;
  lua_pushvalue(L, idx);
  lua_rawseti(L, t, rec->slot);
  lua_pushinteger(L, (lua_Integer)rec->gen);
  lua_rawsetp(L, -2, cd);
  *(void **)cdata_ptr(cd) = rec->code;
  rec->state = CCB_LIVE;
  lua_pop(L, 1);                       /* cdgen */
  lua_remove(L, t);                    /* leave the cdata on top */
  return rec->code;
}

void *ccallback_implicit(lua_State *L, CTState *S, CTypeID ptrid, int idx) {
  CCbState *cb;
  CCbSentinel *old, *sn;
  CCbRec *rec;
  CTypeID fid;
  uint32_t i, k, live = 0;
  int t, imp;
  idx = lua_absindex(L, idx);
  fid = ccallback_fid(L, S, ptrid, idx);
  cb = ccallback_state(L, S);
  cffi_pushtable(L, S, CFFI_T_CALLBACKS);
  t = lua_gettop(L);
  lua_rawgeti(L, t, CCB_K_IMP);
  imp = lua_gettop(L);
  lua_pushvalue(L, idx);
  lua_rawget(L, imp);
  old = (CCbSentinel *)lua_touserdata(L, -1);
  if (old) {
    for (i = 0; i < old->n; i++) {
      CCbRec *r = old->e[i].rec;
      if (r->gen != old->e[i].gen || r->state != CCB_LIVE) continue;
      if (r->fid == fid) {
        lua_settop(L, t - 1);
        return r->code;
      }
      live++;
    }
  }
  /* A new sentinel listing the live callbacks of this function plus the
  ** new one; it goes into the table before the closure exists, so a memory
  ** error here leaks nothing. */
  sn = (CCbSentinel *)lua_newuserdatauv(L, sizeof(CCbSentinel) +
                                        (live + 1) * sizeof(CCbHandle), 0);
  sn->n = 0;
  lua_rawgeti(L, t, CCB_K_SMT);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, idx);
  lua_pushvalue(L, -2);
  lua_rawset(L, imp);
  rec = ccallback_alloc(L, S, cb, fid);
  rec->implicit = 1;
  lua_rawgeti(L, t, CCB_K_WEAK);
  lua_pushvalue(L, idx);
  lua_rawseti(L, -2, rec->slot);
  k = 0;
  if (old) {
    for (i = 0; i < old->n; i++) {
      CCbRec *r = old->e[i].rec;
      if (r->gen == old->e[i].gen && r->state == CCB_LIVE) sn->e[k++] = old->e[i];
    }
    old->n = 0;                        /* its __gc must not free them now */
  }
  sn->e[k].rec = rec;
  sn->e[k].gen = rec->gen;
  sn->n = k + 1;
  rec->state = CCB_LIVE;
  lua_settop(L, t - 1);
  return rec->code;
}

/* The function of an implicit callback was collected. */
static int ccallback_sentinel_gc(lua_State *L) {
  CTState *S = cffi_upstate(L);        /* NULL once the state is gone */
  CCbSentinel *sn = (CCbSentinel *)lua_touserdata(L, 1);
  uint32_t i;
  if (S == NULL || S->cb == NULL || sn == NULL) return 0;
  for (i = 0; i < sn->n; i++) {
    CCbRec *r = sn->e[i].rec;
    if (r->gen == sn->e[i].gen && r->state == CCB_LIVE && r->implicit)
      ccallback_release(L, S, r);
  }
  sn->n = 0;
  return 0;
}

/* ---- methods of callback cdata ------------------------------------------ */

/* The live record behind the callback cdata at index 1. */
static CCbRec *ccallback_check(lua_State *L, CTState *S) {
  CData *cd = cdata_test(L, S, 1);
  CCbRec *rec;
  int ok;
  if (cd == NULL || !(cd->flags & CDF_CALLBACK) || S->cb == NULL)
    luaL_argerror(L, 1, "callback expected");
  cffi_pushtable(L, S, CFFI_T_CALLBACKS);
  lua_rawgeti(L, -1, CCB_K_CODE);
  lua_rawgetp(L, -1, *(void **)cdata_ptr(cd));
  rec = (CCbRec *)lua_touserdata(L, -1);
  lua_rawgeti(L, -3, CCB_K_CDGEN);
  lua_rawgetp(L, -1, cd);
  ok = rec != NULL && lua_isinteger(L, -1) &&
       (uint32_t)lua_tointeger(L, -1) == rec->gen && rec->gen != 0 &&
       rec->state == CCB_LIVE && !rec->implicit;
  lua_pop(L, 5);
  if (!ok) luaL_error(L, "callback already freed");
  return rec;
}

static int ccallback_m_free(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CCbRec *rec = ccallback_check(L, S);
  CData *cd = cdata_test(L, S, 1);
  cffi_pushtable(L, S, CFFI_T_CALLBACKS);
  lua_rawgeti(L, -1, CCB_K_CDGEN);
  lua_pushnil(L);
  lua_rawsetp(L, -2, cd);
  lua_pop(L, 2);
  ccallback_release(L, S, rec);
  return 0;
}

static int ccallback_m_set(lua_State *L) {
  CTState *S = cffi_upstate(L);
  CCbRec *rec = ccallback_check(L, S);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  cffi_pushtable(L, S, CFFI_T_CALLBACKS);
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, rec->slot);
  return 0;
}

int ccallback_index(lua_State *L, CTState *S, CData *cd, const char *key) {
  int k;
  if (!(cd->flags & CDF_CALLBACK) || key == NULL) return 0;
  if (strcmp(key, "free") == 0) k = CCB_K_FREE;
  else if (strcmp(key, "set") == 0) k = CCB_K_SET;
  else return 0;
  ccallback_state(L, S);
  cffi_pushtable(L, S, CFFI_T_CALLBACKS);
  lua_rawgeti(L, -1, k);
  lua_remove(L, -2);
  return 1;
}
