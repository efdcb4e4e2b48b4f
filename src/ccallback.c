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
**   closures are kept in a quarantine (FIFO) and only reused for a new
**   callback of the very same function type, once more than CCB_QUARANTINE
**   of that type wait: a stale pointer keeps hitting the error for a while,
**   and after reuse it reaches a callback C calls with the right ABI.  (So
**   freed closures of a type never used again are never reused; their
**   number is bounded by "too many callbacks".)
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

#if defined(__GNUC__)
#define CCB_INLINE static inline __attribute__((always_inline))
#else
#define CCB_INLINE static inline
#endif

/*
** Where the Lua functions live: a thread that never runs (the holder,
** cb->H) keeps them on its stack, where an entry reaches them with two
** cheap API calls (lua_pushvalue + lua_xmove) and no table lookup.
** H[1] is the weak table of implicit callbacks' functions (by slot);
** H[slot + 1] the function of the explicit callback of that slot, or nil.
** Every record gets its stack slot when it is made, and H always keeps one
** free slot above its top.
*/
#define CCB_HWEAK 1
#define ccb_hslot(rec) ((int)(rec)->slot + 1)

/* Keys of CFFI_T_CALLBACKS. */
enum {
  CCB_K_WEAK = -1,     /* slot -> function of an implicit callback (weak) */
  CCB_K_IMP = -2,      /* function -> sentinel (ephemeron) */
  CCB_K_CODE = -3,     /* code address -> record (light userdata) */
  CCB_K_CDGEN = -4,    /* callback cdata address -> generation it owns */
  CCB_K_ERR = -5,      /* { [1] = pending error value } */
  CCB_K_SMT = -6,      /* metatable of sentinels */
  CCB_K_FREE = -7,     /* method closures */
  CCB_K_SET = -8,
  CCB_K_HOLDER = -9    /* the holder thread */
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
  lua_Integer slot;        /* key of its function in CCB_K_WEAK (implicit) or
                              where the holder keeps it (explicit) */
  uint32_t gen;            /* bumped on each reuse: stale handles see it */
  ffi_cif *cif;            /* ccall.c's, for fid: lives as long as S */
  CTypeID *argids;         /* parameter types as passed (malloc'd) */
  uint8_t *acls;           /* their scalar classes (CCS_*, after argids) */
  uint32_t nargs;
  int rcls;                /* scalar class of the result */
  int fast;                /* no argument needs a cdata: the entry calls the
                              Lua function itself */
  size_t rsize;            /* bytes of the return buffer C reads */
  struct CCbRec *qnext;    /* quarantine chain */
  struct CCbRec *all;      /* every record, for ccallback_freestate */
} CCbRec;

typedef struct CCbState {
  lua_State *mainL;
  lua_State *H;            /* the holder thread (anchored at CCB_K_HOLDER) */
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

/* Bytes of the return buffer C reads (0 for void). */
static size_t ccallback_retsize(CTState *S, CTypeID fid) {
  CType *ct = ctype_get(S, ctype_get(S, fid)->child);
  if (ct->kind == CT_VOID) return 0;
  if (ctype_isrecord(ct)) return ct->size;
  return ct->size > sizeof(ffi_arg) ? ct->size : sizeof(ffi_arg);
}

static void ccallback_quarantine(CCbState *cb, CCbRec *rec) {
  rec->state = CCB_FREE;
  rec->qnext = NULL;
  if (cb->qtail) cb->qtail->qnext = rec; else cb->qhead = rec;
  cb->qtail = rec;
  cb->nquar++;
}

/* Take a record for function type fid out of the quarantine, or NULL.
** A stale C pointer to a freed closure may still be called with the ABI of
** the closure's type, so a closure is reused only for its very type id (a
** record whose closure was never handed out, fid 0, for any), and only
** once more than `keep` of that type wait (oldest first). */
static CCbRec *ccallback_unquarantine(CCbState *cb, CTypeID fid, size_t keep) {
  CCbRec *rec, *prev = NULL, *pick = NULL, *pickprev = NULL;
  size_t n = 0;
  for (rec = cb->qhead; rec != NULL; prev = rec, rec = rec->qnext) {
    if (rec->active || (rec->fid != fid && rec->fid != 0)) continue;
    if (pick == NULL) { pick = rec; pickprev = prev; }
    if (rec->fid == 0) { pick = rec; pickprev = prev; n = keep + 1; break; }
    n++;
  }
  if (pick == NULL || n <= keep) return NULL;
  if (pickprev != NULL) pickprev->qnext = pick->qnext;
  else cb->qhead = pick->qnext;
  if (cb->qtail == pick) cb->qtail = pickprev;
  cb->nquar--;
  pick->qnext = NULL;
  pick->state = CCB_NEW;
  return pick;
}

/* A record with a closure for function type fid, from the quarantine or
** new.  New records are linked into cb->all at once, so nothing leaks if a
** Lua error follows. */
static CCbRec *ccallback_getrec(lua_State *L, CTState *S, CCbState *cb,
                                CTypeID fid) {
  CCbRec *rec;
  if (cb->nquar > CCB_QUARANTINE &&
      (rec = ccallback_unquarantine(cb, fid, CCB_QUARANTINE)) != NULL)
    return rec;
  if (cb->nslot >= 900000 || !lua_checkstack(cb->H, 2)) rec = NULL;
  else rec = (CCbRec *)calloc(1, sizeof(CCbRec));
  if (rec) {
    rec->closure = (ffi_closure *)ffi_closure_alloc(sizeof(ffi_closure), &rec->code);
    if (rec->closure == NULL) { free(rec); rec = NULL; }
  }
  if (rec == NULL) {
    if ((rec = ccallback_unquarantine(cb, fid, 0)) != NULL)
      return rec;
    luaL_error(L, "too many callbacks");
    return NULL;
  }
  rec->S = S;
  rec->state = CCB_NEW;
  rec->slot = ++cb->nslot;
  lua_pushnil(cb->H);                  /* its holder slot (space checked) */
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
  uint32_t n = ctype_get(S, fid)->nfield, i;
  size_t sz = sizeof(CTypeID) * n + n + 1;
  CTypeID *tmp = (CTypeID *)lua_newuserdatauv(L, sz, 0), *ids;
  ffi_cif *cif = ccallback_describe(L, S, fid, tmp);
  CCbRec *rec;
  if (cif == NULL)
    luaL_error(L, "cannot create a callback: libffi refused the function type");
  rec = ccallback_getrec(L, S, cb, fid);
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
  rec->acls = (uint8_t *)(ids + n);
  rec->nargs = n;
  rec->fast = 1;
  for (i = 0; i < n; i++) {
    int cls = cconv_sclass(S, ids[i], 0);
    rec->acls[i] = (uint8_t)cls;
    if (cls > CCS_DOUBLE) rec->fast = 0;  /* pointers and the rest: cdata */
  }
  rec->rcls = cconv_sclass(S, ctype_get(S, fid)->child, 0);
  rec->rsize = ccallback_retsize(S, fid);
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
  lua_State *H = S->cb->H;
  lua_pushnil(H);                      /* H has one free slot */
  lua_replace(H, ccb_hslot(rec));
  cffi_pushtable(L, S, CFFI_T_CALLBACKS);
  lua_rawgeti(L, -1, CCB_K_WEAK);
  lua_pushnil(L);
  lua_rawseti(L, -2, rec->slot);
  lua_pop(L, 2);
  ccallback_quarantine(S->cb, rec);
}

/* Make the value at idx of L the function of explicit callback rec. */
static void ccallback_hset(lua_State *L, CTState *S, CCbRec *rec, int idx) {
  lua_State *H = S->cb->H;
  lua_pushvalue(L, idx);
  lua_xmove(L, H, 1);
  lua_replace(H, ccb_hslot(rec));
}

/* ---- the entry C calls -------------------------------------------------- */

/* Push the Lua function of rec (nil once gone).  Never raises. */
CCB_INLINE void ccallback_pushfunc(lua_State *L, CTState *S, CCbRec *rec) {
  lua_State *H = S->cb->H;
  if (!rec->implicit) {
    lua_pushvalue(H, ccb_hslot(rec));
    lua_xmove(H, L, 1);
  } else {
    lua_pushvalue(H, CCB_HWEAK);
    lua_xmove(H, L, 1);
    lua_rawgeti(L, -1, rec->slot);
    lua_replace(L, -2);
  }
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

/* The common results (cffi.h's fast rules: a register image is what libffi
** reads, narrow integers widened to ffi_arg); 0 when cconv must convert
** the value at -1, which may raise. */
CCB_INLINE int ccallback_fastret(lua_State *L, CCbRec *rec, void *ret) {
  int cls = rec->rcls, ok;
  uint64_t u;
  if (cls == CCS_I32) ok = cconv_fastint(L, CCS_I32, -1, &u);  /* int: common */
  else if (cls == CCS_VOID) return 1;
  else ok = cconv_fastreg(L, cls, -1, &u);
  if (ok) memcpy(ret, &u, sizeof u);   /* scalars: rsize >= sizeof(ffi_arg) */
  return ok;
}

/* Push argument i: scalars inline, the rest through cconv (may raise). */
CCB_INLINE void ccallback_pusharg(lua_State *L, CTState *S, CCbRec *rec,
                                  void **args, uint32_t i) {
  int cls = rec->acls[i];
  if (cls == CCS_I32)                  /* int: common */
    cconv_pushreg(L, CCS_I32, cconv_loadreg(CCS_I32, args[i]));
  else if (cconv_pushreg(L, cls, cconv_loadreg(cls, args[i])) < 0)
    cconv_tolua(L, S, rec->argids[i], args[i], 0);
}

/* The protected part of an entry whose arguments need cdata: arguments,
** call, result. */
static int ccallback_run(lua_State *L) {
  CCbFrame *fr = (CCbFrame *)lua_touserdata(L, 1);
  CCbRec *rec = fr->rec;
  CTState *S = rec->S;
  uint32_t i, n = rec->nargs;
  ccallback_pushfunc(L, S, rec);
  if (!lua_isfunction(L, -1)) return luaL_error(L, "called a freed callback");
  luaL_checkstack(L, (int)n + LUA_MINSTACK, "too many callback arguments");
  for (i = 0; i < n; i++) ccallback_pusharg(L, S, rec, fr->args, i);
  lua_call(L, (int)n, 1);
  if (!ccallback_fastret(L, rec, fr->ret))
    ccallback_setret(L, S, ctype_get(S, rec->fid)->child, fr->ret);
  return 0;
}

/* The protected conversion of a result the fast rules left (value at 2). */
static int ccallback_retp(lua_State *L) {
  CCbFrame *fr = (CCbFrame *)lua_touserdata(L, 1);
  CCbRec *rec = fr->rec;
  ccallback_setret(L, rec->S, ctype_get(rec->S, rec->fid)->child, fr->ret);
  return 0;
}

/* Message handler: strings get the callback's traceback appended. */
static int ccallback_msgh(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) return 1;           /* other error values pass unchanged */
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Nothing here may raise: a Lua error must not unwind through libffi and
** the C frames above it.  Only calls that cannot fail run outside a
** protected call (pushing light C functions, light userdata, numbers and
** booleans; raw reads of integer keys).  With scalar arguments the Lua
** function itself is the protected call; otherwise ccallback_run is. */
static void ccallback_entry(ffi_cif *cif, void *ret, void **args, void *ud) {
  CCbRec *rec = (CCbRec *)ud;
  CTState *S = rec->S;
  lua_State *saved = S->curL;
  lua_State *L = saved ? saved : S->cb->mainL;
  uint32_t i, n = rec->nargs;
  CCbFrame fr;
  int top, st;
  (void)cif;
  if (rec->rsize == sizeof(uint64_t)) memset(ret, 0, sizeof(uint64_t));
  else memset(ret, 0, rec->rsize);     /* the zero value, if nothing else */
  if (S->cb_error) return;             /* an error is pending: run no Lua */
  if (rec->state != CCB_LIVE) { S->cb_error = 3; return; }
  if (n > 1000000 || !lua_checkstack(L, (int)n + 6)) { S->cb_error = 2; return; }
  fr.rec = rec;
  fr.ret = ret;
  fr.args = args;
  top = lua_gettop(L);
  lua_pushcfunction(L, ccallback_msgh);
  rec->active++;
  if (rec->fast) {
    ccallback_pushfunc(L, S, rec);
    if (rec->implicit && !lua_isfunction(L, -1)) {
      st = -1;                         /* an implicit one whose function died */
    } else {
      for (i = 0; i < n; i++) ccallback_pusharg(L, S, rec, args, i);
      st = lua_pcall(L, (int)n, 1, top + 1);
      if (st == LUA_OK && !ccallback_fastret(L, rec, ret)) {
        lua_pushcfunction(L, ccallback_retp);
        lua_pushlightuserdata(L, &fr);
        lua_pushvalue(L, -3);
        st = lua_pcall(L, 2, 0, top + 1);
      }
    }
  } else {
    lua_pushcfunction(L, ccallback_run);
    lua_pushlightuserdata(L, &fr);
    st = lua_pcall(L, 1, 0, top + 1);
  }
  rec->active--;
  S->curL = saved;                     /* whatever nested calls left there */
  if (st == -1) {
    S->cb_error = 3;
  } else if (st != LUA_OK) {
    if (rec->rsize == sizeof(uint64_t)) memset(ret, 0, sizeof(uint64_t));
    else memset(ret, 0, rec->rsize);
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
  lua_State *H;
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
  H = lua_newthread(L);
  lua_rawseti(L, t, CCB_K_HOLDER);
  lua_rawgeti(L, t, CCB_K_WEAK);
  lua_xmove(L, H, 1);                  /* H[CCB_HWEAK]; a new thread has room */
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  cb = (CCbState *)calloc(1, sizeof(CCbState));
  if (cb == NULL) {
    luaL_error(L, "not enough memory");
    return NULL;
  }
  cb->mainL = lua_tothread(L, -1);
  cb->H = H;
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
  ccallback_hset(L, S, rec, idx);
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

/* Is the value at idx a sentinel (the registry exposes the metatable
** and its __gc to debug.getregistry)?  Raw accesses only: never raises. */
static int ccallback_issentinel(lua_State *L, CTState *S, int idx) {
  int ok = 0;
  if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return 0;
  cffi_pushtable(L, S, CFFI_T_CALLBACKS);
  if (lua_type(L, -1) == LUA_TTABLE) {
    lua_rawgeti(L, -1, CCB_K_SMT);
    ok = lua_rawequal(L, -1, -3);
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
  return ok;
}

/* The function of an implicit callback was collected. */
static int ccallback_sentinel_gc(lua_State *L) {
  CTState *S = cffi_upstate_raw(L);    /* NULL once the state is gone */
  CCbSentinel *sn;
  uint32_t i;
  if (S == NULL || S->cb == NULL || !ccallback_issentinel(L, S, 1)) return 0;
  sn = (CCbSentinel *)lua_touserdata(L, 1);
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
  ccallback_hset(L, S, rec, 2);
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
