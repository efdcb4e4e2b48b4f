-- scripts/fuzz.lua: a seeded fuzz driver for cffi, from Lua only.
--
-- It calls every ffi.* function (cdef, typeof, new, cast, metatype, gc,
-- sizeof, alignof, offsetof, istype, string, copy, fill, tonumber, load,
-- dlclose, addressof, errno, isnull, abi) and every cdata operation (index,
-- newindex, arithmetic, comparison, concat, len, call, tostring, pairs on
-- namespaces, metatype methods, callbacks called from C) with random and
-- adversarial arguments: wrong types, nil, huge/negative/NaN/inf numbers,
-- math.mininteger, huge VLA counts, negative lengths, random type strings,
-- mutated C declarations, deep nesting, long identifiers, `$` parameters of
-- every kind, recursive structs, cdata of one type where another is
-- expected, freed callbacks, closed libraries.  Every call runs under
-- pcall: any Lua error is fine.  A finding is
--   * a crash, or an AddressSanitizer / UBSan report (the process dies);
--   * an operation slower than FUZZ_SLOW seconds (a hang);
--   * an error value that is not a string (unless our own function raised
--     it), or a message with "(null)" or an unexpanded format ("%d").
-- Findings are printed on stderr as "FINDING ..." and the exit status is 1.
--
-- Run from the repository root, after `make build/asan/cffi.so
-- spec/lib/libcffitest.so`:
--
--   LD_PRELOAD="$(cc -print-file-name=libasan.so) $(cc -print-file-name=libubsan.so)" \
--   ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1 \
--   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
--   LUA_CPATH='build/asan/?.so;;' lua5.4 scripts/fuzz.lua SEED [N]
--
-- and for many seeds (one process at a time):
--
--   for s in $(seq 1 300); do <the line above with> scripts/fuzz.lua $s 3000 \
--     >/tmp/fuzz.$s.log 2>&1 || echo "seed $s: exit $?"; done
--
-- SEED: an integer (default: the time); N: operations (default 2000).
-- allocator_may_return_null=1 matters: without it ASan aborts on a huge
-- malloc (ffi.new("char[?]", 2^50)) that the real allocator answers with
-- NULL, which Lua turns into "not enough memory".
--
-- Environment:
--   FUZZ_TRACE=1    print every operation (a Lua-like line) on stderr before
--                   running it: the last lines before a crash are the repro
--   FUZZ_KNOWN=1    also run the scenarios of findings already written down
--                   in spec/robustness_spec.lua (off by default: they would
--                   crash every run and hide new findings)
--   FUZZ_SLOW=secs  an operation slower than this is a finding (default 10;
--                   a Lua "stack overflow" under ASan with a big heap can
--                   take several seconds)
--   FUZZ_LIB=path   the spec C library (default ./spec/lib/libcffitest.so)
--   FUZZ_GCSTEP=1   a full collection after every operation: a corrupted
--                   Lua heap then crashes right after the operation that
--                   corrupted it (the run differs from the plain one)
--
-- In a trace, "[step] ..." lines are the calls (with "-> message" when one
-- raised) and "=> c12<int[4]>" lines name the values a step kept, so later
-- lines can refer to them.  ffi.load never gets RTLD_DEEPBIND (ASan's
-- runtime refuses it).
--
-- A run is deterministic for a given SEED and N (math.random is the only
-- source of choices; nothing random runs in finalizers), so a crash
-- reproduces with the same arguments, and FUZZ_TRACE=1 shows where.
--
-- What the driver never does, because C gives it no meaning a library could
-- check: read or write through a pointer of unknown extent (a pointer made
-- by ffi.cast from a number, or read back from C memory), call a function
-- pointer that is not a live callback or a correctly typed C function, pass
-- C functions pointers they would dereference, keep pointers to objects the
-- GC freed (objects live for a whole "epoch" and die together).

local ffi = require "cffi"

local SEED = math.tointeger(tonumber(arg[1] or "")) or os.time()
local N = math.tointeger(tonumber(arg[2] or "")) or 2000
local TRACE = os.getenv("FUZZ_TRACE")
local KNOWN = os.getenv("FUZZ_KNOWN")
local SLOW = tonumber(os.getenv("FUZZ_SLOW") or "") or 10
local LIBPATH = os.getenv("FUZZ_LIB") or "./spec/lib/libcffitest.so"
local GCSTEP = os.getenv("FUZZ_GCSTEP")

math.randomseed(SEED)
local random = math.random
local function R(a, b) return random(a, b) end
local function pick(t) return t[random(#t)] end
local function chance(p) return random() < p end

local step, nfind, nerr, nok, nharness = 0, 0, 0, 0, 0
local BOOM = setmetatable({}, { __tostring = function() return "BOOM" end })

-- ---------------------------------------------------------------------
-- Reporting
-- ---------------------------------------------------------------------

local names = setmetatable({}, { __mode = "k" })
local nameseq = 0
local function nm(v, prefix)
  local t = type(v)
  if t ~= "table" and t ~= "userdata" and t ~= "function" and t ~= "thread" then
    return nil
  end
  if names[v] == nil then
    nameseq = nameseq + 1
    names[v] = (prefix or "v") .. nameseq
  end
  return names[v]
end

-- A short description of a value; never runs a metamethod or math.random.
local function D(v)
  local t = type(v)
  if t == "number" then
    if math.type(v) == "integer" then
      if v == math.mininteger then return "math.mininteger" end
      return tostring(v)
    end
    if v ~= v then return "(0/0)" end
    if v == math.huge then return "math.huge" end
    if v == -math.huge then return "-math.huge" end
    return ("%.17g"):format(v)
  elseif t == "string" then
    local s = #v > 60 and v:sub(1, 40) or v
    s = ("%q"):format(s):gsub("\\\n", "\\n")
    if #v > 60 then s = s .. ("..[len %d]"):format(#v) end
    return s
  elseif t == "nil" or t == "boolean" then
    return tostring(v)
  elseif t == "userdata" then
    local n = names[v] or "ud"
    local ok, ct = pcall(ffi.typeof, v)
    if ok then
      local s = tostring(ct)
      return ("%s<%s>"):format(n, s:match("^ctype<(.*)>$") or s)
    end
    return n
  else
    return names[v] or t
  end
end

local function Dargs(t, i, j)
  local out = {}
  for k = i or 1, j or t.n or #t do out[#out + 1] = D(t[k]) end
  return table.concat(out, ", ")
end

local function finding(kind, desc, detail)
  nfind = nfind + 1
  io.stderr:write(("FINDING [seed %d step %d] %s: %s -- %s\n")
                  :format(SEED, step, kind, desc, tostring(detail)))
  io.stderr:flush()
end

-- Run f(...) protected; check what comes back.  Returns the packed results
-- of pcall.
local function try(desc, f, ...)
  -- built in every mode, so that tracing does not change GC timing
  local line = ("[%d] %s\n"):format(step, desc)
  if TRACE then
    io.stderr:write(line)
    io.stderr:flush()
  end
  local t0 = os.clock()
  local r = table.pack(pcall(f, ...))
  local dt = os.clock() - t0
  if dt > SLOW then finding("slow", desc, ("%.1f s"):format(dt)) end
  if r[1] then
    nok = nok + 1
  else
    nerr = nerr + 1
    local e = r[2]
    if type(e) ~= "string" then
      if e ~= BOOM and e ~= 42 then
        finding("non-string error", desc, ("%s: %s"):format(type(e), tostring(e)))
      end
    elseif not desc:find("%", 1, true) and
           (e:find("(null)", 1, true) or e:find("%%[IdspfU]")) then
      finding("odd message", desc, e)
    end
    line = ("      -> %s\n"):format(type(e) == "string" and e:sub(1, 200) or D(e))
    if TRACE then io.stderr:write(line) end
  end
  return r
end

-- ---------------------------------------------------------------------
-- The pool: values ops work on.  Everything made in an epoch stays alive
-- until the epoch ends, so pointers into it never dangle.
-- ---------------------------------------------------------------------

local P, KEEP = {}, {}
-- cdata -> what we know: size (bytes of an object we may read/write),
-- len (elements, when #x works), ext (bytes reachable from a pointer),
-- call (a function pointer safe to call), cb (explicit callback), freed.
local info = setmetatable({}, { __mode = "k" })

local function add(v, inf, prefix)
  if v == nil then return end
  nm(v, prefix)
  local line = ("      => %s\n"):format(D(v))
  if TRACE then io.stderr:write(line) end
  P[#P + 1] = v
  KEEP[#KEEP + 1] = v
  if inf then info[v] = inf end
  if #P > 400 then table.remove(P, R(1, #P)) end
end

local function pooled(pred)
  for _ = 1, 8 do
    local v = P[random(math.max(#P, 1))]
    if v ~= nil and (pred == nil or pred(v)) then return v end
  end
  return nil
end

-- A cdata (not a ctype object); runs no metamethod.
local function iscdata(v)
  if type(v) ~= "userdata" then return false end
  local ok, ct = pcall(ffi.typeof, v)
  return ok and not rawequal(ct, v)
end

local function isctype(v)
  if type(v) ~= "userdata" then return false end
  local ok, ct = pcall(ffi.typeof, v)
  return ok and rawequal(ct, v)
end

local function typestr(v)
  local ok, ct = pcall(ffi.typeof, v)
  if not ok then return nil end
  return tostring(ct):match("^ctype<(.*)>$")
end

local function isfptr(v)
  local s = typestr(v)
  return s ~= nil and s:find("%(%*%)%(") ~= nil
end

local function isnullptr(v)
  local ok, r = pcall(ffi.isnull, v)
  return ok and r and type(v) == "userdata"
end

-- Describe a new object: its size and length when known.
local function objinfo(v, extra)
  local i = extra or {}
  local ok, s = pcall(ffi.sizeof, v)
  if ok and math.type(s) == "integer" then
    local ts = typestr(v) or ""
    -- a reference to a flexible/VLA member has no known extent
    if not ts:find("%[%?%]") and not ts:find("%[%]") then i.size = s end
  end
  local ok2, n = pcall(function() return #v end)
  if ok2 and math.type(n) == "integer" then i.len = n end
  local ts = typestr(v) or ""
  if ts:find("%]$") and not i.len then
    i.size = nil                    -- an unbounded array reference ([0]/[1]
    i.flex = true                   -- last member): the module does not check it
  end
  if ts:find("%*$") or ts:find("%*%)") or ts:find("%* ?const$") or ts:find("&") or
     ts:find("va_list") or
     ts:find("%* ?volatile$") or ts:find("%* ?restrict$") then
    i.size = nil                    -- a pointer: its own 8 bytes are fine,
    i.ptr = true                    -- what it points to is not ours
  end
  return i
end

-- ---------------------------------------------------------------------
-- Static setup: correctly typed C functions that are safe with any
-- arguments that convert, and the spec library.
-- ---------------------------------------------------------------------

ffi.cdef [[
  typedef struct _IO_FILE FILE;
  int abs(int x);
  long labs(long x);
  size_t strlen(const char *s);
  char *getenv(const char *name);
  int snprintf(char *buf, size_t n, const char *fmt, ...);
  void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
  extern int optind;
  extern int opterr;
  extern char **environ;
]]

local LIB
do
  local ok, lib = pcall(ffi.load, LIBPATH)
  if ok then
    LIB = lib
    ffi.cdef [[
      enum tl_color { TL_RED, TL_GREEN = 5, TL_BLUE };
      typedef struct tl_point { int x, y; } tl_point;
      typedef struct tl_vec2 { double x, y; } tl_vec2;
      typedef struct tl_big { int a[10]; double d; } tl_big;
      typedef struct tl_quad { double a, b, c, d; } tl_quad;
      typedef union tl_intfloat { int i; float f; unsigned char b[4]; } tl_intfloat;
      typedef union tl_du { double d; int64_t i; } tl_du;
      typedef struct tl_ldstruct { long double v; int tag; } tl_ldstruct;
      typedef struct tl_float4 { float v[4]; } tl_float4;
      #pragma pack(push, 1)
      typedef struct tl_packed { char c; int i; short s; } tl_packed;
      #pragma pack(pop)
      typedef struct tl_bits { unsigned a : 4, b : 4; int c; } tl_bits;
      typedef struct tl_money { long long cents; } tl_money;
      typedef struct tl_chars { char c[5]; } tl_chars;
      void tl_noop(void);
      int tl_add(int a, int b);
      int tl_add1(int x);
      int8_t tl_i8_id(int8_t x);
      uint8_t tl_u8_id(uint8_t x);
      int16_t tl_i16_id(int16_t x);
      uint16_t tl_u16_id(uint16_t x);
      int32_t tl_i32_id(int32_t x);
      uint32_t tl_u32_id(uint32_t x);
      int64_t tl_i64_id(int64_t x);
      uint64_t tl_u64_id(uint64_t x);
      char tl_char_id(char x);
      long tl_long_id(long x);
      unsigned long tl_ulong_id(unsigned long x);
      size_t tl_size_id(size_t x);
      bool tl_not(bool b);
      bool tl_and3(bool a, bool b, bool c);
      float tl_fadd(float a, float b);
      double tl_dadd(double a, double b);
      long double tl_ldadd(long double a, long double b);
      long double tl_ldid(long double x);
      float complex tl_cfmul(float complex a, float complex b);
      double complex tl_cdmul(double complex a, double complex b);
      double complex tl_cdmake(double re, double im);
      int tl_color_value(enum tl_color c);
      enum tl_color tl_next_color(enum tl_color c);
      tl_point tl_point_make(int x, int y);
      int tl_point_sum(tl_point p);
      tl_point tl_point_add(tl_point a, tl_point b);
      tl_vec2 tl_vec2_make(double x, double y);
      double tl_vec2_dot(tl_vec2 a, tl_vec2 b);
      tl_big tl_big_make(int seed);
      double tl_big_sum(tl_big b);
      double tl_big_after_ints(int a, int b, int c, int d, int e, int f, tl_big big);
      double tl_quad_sum(tl_quad q);
      int tl_chars_len(tl_chars c);
      tl_intfloat tl_if_from_int(int i);
      double tl_if_get_float(tl_intfloat u);
      int64_t tl_du_get_int(tl_du u);
      double tl_ldstruct_sum(tl_ldstruct s);
      double tl_float4_sum(tl_float4 f);
      int tl_packed_sum(tl_packed p);
      tl_bits tl_bits_make(unsigned a, unsigned b, int c);
      int tl_bits_sum(tl_bits x);
      tl_money tl_money_add(tl_money a, tl_money b);
      int tl_sum10i(int a, int b, int c, int d, int e, int f, int g, int h, int i, int j);
      double tl_sum10d(double a, double b, double c, double d, double e,
                       double f, double g, double h, double i, double j);
      long long tl_vsum(int n, ...);
      double tl_vsumd(int n, ...);
      int tl_set_errno(int e);
      int tl_get_errno(void);
      int tl_call_int(int (*f)(int), int x);
      int tl_call_int2(int (*f)(int, int), int a, int b);
      typedef int (*tl_intfn)(int);
      tl_intfn tl_get_add1(void);
      tl_intfn tl_get_null_fn(void);
      int tl_is_add1(int (*f)(int));
      int tl_is_null(const void *p);
      uintptr_t tl_ptr_to_int(const void *p);
      void *tl_return_null(void);
      const char *tl_hello(void);
      const char *tl_str_or_null(int which);
      void tl_reset_globals(void);
      extern int tl_global_int;
      extern double tl_global_double;
      extern float tl_global_float;
      extern int64_t tl_global_i64;
      extern uint8_t tl_global_u8;
      extern bool tl_global_bool;
      extern const int tl_global_const;
      extern int tl_global_array[8];
      extern tl_point tl_global_point;
      extern char tl_global_buf[32];
      extern enum tl_color tl_global_color;
      extern int (*tl_global_fn)(int);
      int tl_global_fn_call(int x);
      struct cbt_pt { int x, y; };
      struct cbt_big { int64_t a, b, c, d; };
      union cbt_u { int i; float f; };
      void cbt_store(int (*f)(int));
      int cbt_call_stored(int x);
      int cbt_call_ii(int (*f)(int, int), int a, int b);
      long long cbt_call_n(int (*f)(int), int n);
      void cbt_call_void(void (*f)(void));
      int8_t cbt_i8(int8_t (*f)(int8_t), int8_t x);
      uint64_t cbt_u64(uint64_t (*f)(uint64_t), uint64_t x);
      float cbt_flt(float (*f)(float), float x);
      double cbt_dbl(double (*f)(double), double x);
      bool cbt_bool(bool (*f)(bool), bool x);
      void *cbt_ptr(void *(*f)(void *), void *x);
      char cbt_char(char (*f)(char), char x);
      int cbt_null(int (*f)(void *));
      const char *cbt_str(int (*f)(const char *));
      struct cbt_pt cbt_pt(struct cbt_pt (*f)(struct cbt_pt), int x, int y);
      struct cbt_big cbt_big(struct cbt_big (*f)(struct cbt_big));
      int cbt_union(union cbt_u (*f)(union cbt_u));
      int cbt_twice(int (*f)(int), int x);
      long double cbt_ldbl(long double (*f)(long double), long double x);
      double _Complex cbt_cdbl(double _Complex (*f)(double _Complex), double re, double im);
    ]]
  else
    io.stderr:write("fuzz: cannot load ", LIBPATH, " (", tostring(lib), "): C calls limited to libc\n")
  end
end

-- Functions whose parameters are all values (no data pointers): safe with
-- anything that converts.  fp: parameter positions that take a function
-- pointer (they get callbacks or values that must not convert).
local CFUNCS = {}     -- { ns, name, nparams, fp = {pos = "fptr type"}, var = bool }
local function cf(ns, name, n, fp, var) CFUNCS[#CFUNCS + 1] = { ns = ns, name = name, n = n, fp = fp or {}, var = var } end
cf(ffi.C, "abs", 1) cf(ffi.C, "labs", 1)
if LIB then
  for _, s in ipairs {
    "tl_noop:0", "tl_add:2", "tl_add1:1", "tl_i8_id:1", "tl_u8_id:1", "tl_i16_id:1",
    "tl_u16_id:1", "tl_i32_id:1", "tl_u32_id:1", "tl_i64_id:1", "tl_u64_id:1",
    "tl_char_id:1", "tl_long_id:1", "tl_ulong_id:1", "tl_size_id:1", "tl_not:1",
    "tl_and3:3", "tl_fadd:2", "tl_dadd:2", "tl_ldadd:2", "tl_ldid:1", "tl_cfmul:2",
    "tl_cdmul:2", "tl_cdmake:2", "tl_color_value:1", "tl_next_color:1",
    "tl_point_make:2", "tl_point_sum:1", "tl_point_add:2", "tl_vec2_make:2",
    "tl_vec2_dot:2", "tl_big_make:1", "tl_big_sum:1", "tl_big_after_ints:7",
    "tl_quad_sum:1", "tl_chars_len:1", "tl_if_from_int:1", "tl_if_get_float:1",
    "tl_du_get_int:1", "tl_ldstruct_sum:1", "tl_float4_sum:1", "tl_packed_sum:1",
    "tl_bits_make:3", "tl_bits_sum:1", "tl_money_add:2", "tl_sum10i:10",
    "tl_sum10d:10", "tl_set_errno:1", "tl_get_errno:0", "tl_get_add1:0",
    "tl_get_null_fn:0", "tl_is_null:1", "tl_ptr_to_int:1", "tl_return_null:0",
    "tl_hello:0", "tl_str_or_null:1",
  } do
    local n, k = s:match("^(.-):(%d+)$")
    cf(LIB, n, tonumber(k))
  end
  cf(LIB, "tl_vsum", 1, nil, true)
  cf(LIB, "tl_vsumd", 1, nil, true)
  cf(LIB, "tl_is_add1", 1, { [1] = "int (*)(int)" })
  cf(LIB, "tl_call_int", 2, { [1] = "int (*)(int)" })
  cf(LIB, "tl_call_int2", 3, { [1] = "int (*)(int, int)" })
  cf(LIB, "cbt_call_ii", 3, { [1] = "int (*)(int, int)" })
  cf(LIB, "cbt_call_n", 2, { [1] = "int (*)(int)" })
  cf(LIB, "cbt_call_void", 1, { [1] = "void (*)(void)" })
  cf(LIB, "cbt_i8", 2, { [1] = "int8_t (*)(int8_t)" })
  cf(LIB, "cbt_u64", 2, { [1] = "uint64_t (*)(uint64_t)" })
  cf(LIB, "cbt_flt", 2, { [1] = "float (*)(float)" })
  cf(LIB, "cbt_dbl", 2, { [1] = "double (*)(double)" })
  cf(LIB, "cbt_bool", 2, { [1] = "bool (*)(bool)" })
  cf(LIB, "cbt_ptr", 2, { [1] = "void *(*)(void *)" })
  cf(LIB, "cbt_char", 2, { [1] = "char (*)(char)" })
  cf(LIB, "cbt_null", 1, { [1] = "int (*)(void *)" })
  cf(LIB, "cbt_str", 1, { [1] = "int (*)(const char *)" })
  cf(LIB, "cbt_pt", 3, { [1] = "struct cbt_pt (*)(struct cbt_pt)" })
  cf(LIB, "cbt_big", 1, { [1] = "struct cbt_big (*)(struct cbt_big)" })
  cf(LIB, "cbt_union", 1, { [1] = "union cbt_u (*)(union cbt_u)" })
  cf(LIB, "cbt_twice", 2, { [1] = "int (*)(int)" })
  cf(LIB, "cbt_ldbl", 2, { [1] = "long double (*)(long double)" })
  cf(LIB, "cbt_cdbl", 3, { [1] = "double _Complex (*)(double _Complex)" })
end

-- Declared names, grown by successful random cdefs.
local TAGS = { "struct tl_point", "union tl_du", "enum tl_color", "struct cbt_big" }
local TYPEDEFS = { "tl_point", "tl_vec2", "tl_big", "tl_packed", "tl_bits", "tl_intfloat", "tl_chars", "tl_intfn", "FILE" }
local CONSTS = { "TL_RED", "TL_GREEN", "TL_BLUE" }
local VARS = {}       -- names declared by random cdefs (never resolvable)
local FIELDS = { "a", "b", "c", "x", "y", "v", "n", "p", "s", "f", "i", "d", "re", "im", "next", "free", "set" }

-- Names of records (and typedefs) with a flexible or variable-length member
-- somewhere inside: their instances hit known findings (see KNOWNOPS).
local FLEXNAMES = {}
local FLEXCT = setmetatable({}, { __mode = "k" })
local function flexy(text)
  if type(text) ~= "string" then return FLEXCT[text] or false end
  if text:find("%[%]") or text:find("%[%?") or text:find("%[0%]") or text:find("%[%s*%]") then return true end
  for i = 1, #FLEXNAMES do
    if text:find(FLEXNAMES[i], 1, true) then return true end
  end
  return false
end

local seq = 0
local function fresh(prefix)
  seq = seq + 1
  return ("%s%d_%d"):format(prefix or "fz", SEED % 100000, seq)
end

-- ---------------------------------------------------------------------
-- Random Lua values
-- ---------------------------------------------------------------------

local NUMS = {
  0, 1, -1, 2, 3, 4, 5, 7, 8, 16, 31, 32, 63, 64, 65, 100, 127, 128, 255, 256,
  -128, -129, 65535, 65536, 2147483647, -2147483648, 2147483648, 4294967295,
  4294967296, 1 << 53, (1 << 53) + 1, 1 << 62, math.maxinteger, math.mininteger,
  math.mininteger + 1, 0.5, -0.5, 1.5, 2.5, -0.0, 1e308, -1e308, 2^63, -2^63,
  2^64, 2^62, 2^53, 1e-310, 1 / 0, -1 / 0, 0 / 0, math.pi, 255.9, -1.5, 1e100,
}
local function rnum()
  local k = R(1, 10)
  if k <= 6 then return pick(NUMS)
  elseif k <= 8 then return R(-300, 300)
  elseif k == 9 then return random() * 2^R(0, 70) * (chance(0.5) and -1 or 1)
  else return random(math.mininteger, math.maxinteger) end
end

local function rbytes(n)
  local t = {}
  for i = 1, n do t[i] = string.char(R(0, 255)) end
  return table.concat(t)
end

local function rstr()
  local k = R(1, 14)
  if k == 1 then return ""
  elseif k == 2 then return pick { "a", "abc", "x\0y", "hello", "\255\254\253", "%s%d%n%p", "nul" }
  elseif k == 3 then return ("A"):rep(pick { 7, 8, 9, 31, 32, 33, 4096, 100000 })
  elseif k == 4 then return pick { "-1", "0x10", "12", "1e400", "nan", "inf", " 7 ", "0" }
  elseif k == 5 then return pick(FIELDS)
  elseif k == 6 then return pick(CONSTS)
  elseif k == 7 then return pick(TYPEDEFS)
  elseif k == 8 then return pick { "int", "char *", "void", "struct", "int[?]", "double", "$" }
  elseif k == 9 then return rbytes(R(0, 20))
  elseif k == 10 then return ("x"):rep(R(200, 5000))
  elseif k == 11 and #VARS > 0 then return pick(VARS)
  elseif k == 12 then return pick { "free", "set", "re", "im", "__index", "__gc", "tl_add", "tl_global_int" }
  else return pick(FIELDS) end
end

local function rtable(depth)
  depth = depth or 0
  local k = R(1, 9)
  if k == 1 then return {}
  elseif k == 2 then local t = {} for i = 1, R(1, 12) do t[i] = rnum() end return t
  elseif k == 3 then local t = {} for i = 0, R(0, 6) do t[i] = rnum() end return t
  elseif k == 4 then local t = {} for _ = 1, R(1, 4) do t[pick(FIELDS)] = chance(0.7) and rnum() or rstr() end return t
  elseif k == 5 and depth < 4 then
    local t = {} for i = 1, R(1, 4) do t[i] = rtable(depth + 1) end return t
  elseif k == 6 and depth < 4 then
    local t = {} for _ = 1, R(1, 3) do t[pick(FIELDS)] = rtable(depth + 1) end return t
  elseif k == 7 then
    local t = { R(1, 5) }
    local inner = t
    for _ = 1, R(10, 300) do inner = { inner } end
    return inner
  elseif k == 8 then
    return setmetatable({ 1, 2 }, { __index = function() error("boom in __index") end })
  else
    local t = {} for i = 1, R(1, 200) do t[i] = R(0, 255) end return t
  end
end

-- Lua functions with a behaviour fixed when made (no randomness at call
-- time: callbacks may run in finalizers).
local FRET = {}       -- values a function may return (chosen at creation)
local CBSTATE = { depth = 0 }
local rluafunc

local function fixedval()
  local k = R(1, 8)
  if k <= 3 then return rnum()
  elseif k == 4 then return rstr()
  elseif k == 5 then return nil
  elseif k == 6 then return chance(0.5)
  elseif k == 7 then return pooled() or 0
  else return {} end
end

rluafunc = function(depth)
  depth = depth or 0
  local k = R(1, 18)
  local v1, v2 = fixedval(), fixedval()
  local f
  if k <= 5 then
    f = function() return v1 end
  elseif k == 6 then
    f = function() error("boom") end
  elseif k == 7 then
    f = function() error(BOOM) end
  elseif k == 8 then
    f = function() return v1, v2, 3 end
  elseif k == 9 then
    f = function() collectgarbage() return 0 end
  elseif k == 10 then
    f = function() return coroutine.yield(1) end
  elseif k == 11 then
    local function rec(n) return rec(n + 1) + 1 end
    f = function() return rec(1) end
  elseif k == 12 then
    f = function() return ("x"):rep(1 << 40) end
  elseif k == 13 and depth < 2 and LIB then
    local g = rluafunc(depth + 1)
    f = function(x) return LIB.tl_call_int(g, math.tointeger(x) or 0) end
  elseif k == 14 then
    f = function(a, b)            -- orders by address: never dereferences
      if type(a) == "userdata" and type(b) == "userdata" then
        local x, y = ffi.cast("uintptr_t", a), ffi.cast("uintptr_t", b)
        return x < y and -1 or (x > y and 1 or 0)
      end
      return 0
    end
  elseif k == 15 then
    f = function(...) local t = table.pack(...) return t.n end
  elseif k == 16 then
    f = function() error(42) end
  elseif k == 17 then
    f = function(x) return ffi.new("int", 5) end
  else
    f = function() return ffi.new("struct cbt_pt", 1, 2) end
  end
  nm(f, "fn")
  return f
end

-- A C type string: mostly valid, sometimes adversarial.
local BASES = {
  "int", "unsigned int", "char", "signed char", "unsigned char", "short",
  "unsigned short", "long", "unsigned long", "long long", "unsigned long long",
  "float", "double", "long double", "bool", "_Bool", "void", "complex",
  "complex float", "complex double", "size_t", "ssize_t", "int8_t", "uint8_t",
  "int16_t", "uint16_t", "int32_t", "uint32_t", "int64_t", "uint64_t",
  "intptr_t", "uintptr_t", "ptrdiff_t", "wchar_t", "char16_t", "char32_t",
  "va_list", "__builtin_va_list", "const int", "volatile char", "const char",
  "unsigned", "signed", "long int", "short int", "long unsigned int",
  "int long", "__int128", "float complex", "double _Complex", "_Complex double",
  "long long long", "signed unsigned", "struct", "enum", "union", "int int",
  "const const int", "restrict int", "__restrict int", "__const int",
  "__volatile__ int", "__signed__ char", "__extension__ int", "typeof(int)",
  "__typeof__(1)", "_Atomic int", "long float", "short double", "unsigned float",
  "struct fz_undefined", "union fz_undefined2", KNOWN and "enum fz_undefined3" or "int",
  "void (*)(void)", "int __attribute__((aligned(16)))",
  "int __attribute__((vector_size(16)))", "float __attribute__((vector_size(8)))",
  "double __attribute__((vector_size(32)))", "char __attribute__((vector_size(3)))",
  "int __attribute__((vector_size(0)))", "$",
}

local ASIZES = { "0", "1", "2", "3", "4", "7", "8", "16", "100" }
local BADSIZES = {
  "-1", "-2", "2147483647", "2147483648", "4294967295", "4294967296",
  "9223372036854775807", "9223372036854775808", "18446744073709551615",
  "18446744073709551616", "99999999999999999999999", "0x7fffffffffffffff",
  "0xffffffffffffffff", "1<<62", "1<<63", "1<<64", "(1<<31)*2",
  "-9223372036854775807-1", "sizeof(int)", "sizeof(long double)*3", "1?2:3",
  "'a'", "1.5", "1e3", "0x10", "010", "0b11", "1u", "1ull", "1LL", "(char)300",
  "-(-9223372036854775807-1)", "(-9223372036854775807-1)/-1",
  "(-9223372036854775807-1)%-1", "1/0", "1%0", "$", "N", "TL_BLUE",
  "sizeof(struct fz_undefined)", "~0", "!0", "-(1<<63)", "9223372036854775807*2",
  "9223372036854775807+1", "0-9223372036854775807-2", "1>>64", "1<<-1", "-1>>1",
  "(unsigned)-1", "(long long)1<<63", "2147483647*2147483647", "4294967295u*4294967295u",
  "-2147483648/-1", "(int)-2147483648/-1", "(int)-2147483648%-1", "2147483647+1",
  "1<<31", "1<<32", "-1<<1", "sizeof(void)", "sizeof(int[?])", "sizeof(tl_big)",
  "(1,2)", "TL_RED-1", "'\\0'", "'\\xff'", "'ab'", "\"s\"", "sizeof(\"abc\")",
  "((((((((((1))))))))))", "0x", "1e", "08", "1.", ".5", "1e999", "0x1p3",
  "9223372036854775807ULL*3", "-9223372036854775808LL", "(unsigned char)-1",
  "(_Bool)5", "(float)1e40", "(int)1e30", "(long long)1e300", "(long long)(0.0/0.0)",
}

local rtype, rparams, rbody

local function rsize()
  if chance(0.85) then return pick(ASIZES) end
  return pick(BADSIZES)
end

local function rbase(depth)
  local k = R(1, 12)
  if k <= 5 then return pick(BASES)
  elseif k <= 7 and #TYPEDEFS > 0 then return pick(TYPEDEFS)
  elseif k == 8 and #TAGS > 0 then return pick(TAGS)
  elseif k == 9 and depth < 3 then
    return pick { "struct", "union" } .. (chance(0.3) and (" " .. fresh("fzi")) or "") ..
           " { " .. rbody(depth + 1) .. " }"
  elseif k == 10 then
    local t = {}
    for _ = 1, R(0, 4) do
      local c = fresh("FZE")
      t[#t + 1] = chance(0.5) and c or (c .. " = " .. rsize())
    end
    return "enum { " .. table.concat(t, ", ") .. " }"
  elseif k == 11 then
    return pick { "const ", "volatile ", "" } .. pick(BASES)
  else
    return pick(BASES)
  end
end

-- A declarator around `name` ("" for an abstract one).
local function rdeclarator(name, depth)
  local d = name
  for _ = 1, R(0, 4) do
    local k = R(1, 10)
    if k <= 4 then
      -- "&": C++ references; a NULL one crashes conversions (known finding)
      d = pick { "*", "*", "* const ", "*volatile ", "*restrict ", "* __restrict ",
                 KNOWN and "&" or "*", "*const*" } .. d
    else
      local c = d:sub(1, 1)
      if c == "*" or c == "&" or chance(0.03) then d = "(" .. d .. ")" end
      if k <= 7 then d = d .. "[" .. rsize() .. "]"
      elseif k == 8 then d = d .. pick { "[?]", "[]", "[0]", "[1]", "[?][2]", "[][3]" }
      elseif depth < 3 then d = d .. "(" .. rparams(depth + 1) .. ")"
      end
    end
  end
  return d
end

rtype = function(depth)
  depth = depth or 0
  return rbase(depth) .. " " .. rdeclarator("", depth)
end

rparams = function(depth)
  local k = R(1, 8)
  if k == 1 then return "void"
  elseif k == 2 then return ""
  elseif k == 3 then return "..."
  elseif k == 4 then return "int, ..."
  elseif k == 5 then return pick { "..., int", "void, int", "int, void", "int a, int a", "register int", "int x = 1" }
  else
    local t = {}
    for _ = 1, R(1, 5) do
      t[#t + 1] = rbase(depth) .. " " .. rdeclarator(chance(0.5) and pick(FIELDS) or "", depth)
    end
    if chance(0.2) then t[#t + 1] = "..." end
    return table.concat(t, ", ")
  end
end

local ATTRS = {
  "__attribute__((packed))", "__attribute__((aligned(8)))", "__attribute__((aligned(1)))",
  "__attribute__((aligned(3)))", "__attribute__((aligned(0)))", "__attribute__((aligned(4096)))",
  "__attribute__((aligned(1<<30)))", "__attribute__((aligned(-1)))", "__attribute__((aligned))",
  "__attribute__((aligned(1<<62)))", "__attribute__((__packed__))", "__attribute__((unknown))",
  "__attribute__((vector_size(16)))", "__attribute__((mode(DI)))", "__declspec(align(8))",
  "__attribute__((aligned(16), packed))", "__attribute__(())", "__attribute__((",
}

rbody = function(depth)
  local t = {}
  local nf = R(0, 6)
  for i = 1, nf do
    local k = R(1, 12)
    local fname = chance(0.8) and pick(FIELDS) .. (chance(0.5) and i or "") or fresh("f")
    if k <= 6 then
      t[#t + 1] = rbase(depth) .. " " .. rdeclarator(fname, depth) .. ";"
    elseif k == 7 then
      t[#t + 1] = pick { "int", "unsigned", "char", "bool", "long long", "enum tl_color",
                         "unsigned char", "float", "int *", "uint64_t", "short" } ..
                  " " .. (chance(0.8) and fname or "") .. " : " ..
                  pick { "0", "1", "3", "7", "8", "9", "15", "16", "31", "32", "33", "63", "64", "65", "-1", "1<<40", "$" } .. ";"
    elseif k == 8 and depth < 3 then
      t[#t + 1] = pick { "struct", "union" } .. " { " .. rbody(depth + 1) .. " }" ..
                  (chance(0.7) and "" or (" " .. fname)) .. ";"
    elseif k == 9 then
      t[#t + 1] = rbase(depth) .. " " .. fname .. " " .. pick(ATTRS) .. ";"
    elseif k == 10 and i == nf then
      t[#t + 1] = pick { "char", "int", "double", "struct tl_point", "tl_big" } .. " " ..
                  fname .. pick { "[]", "[?]", "[0]", "[1]" } .. ";"
    elseif k == 11 then
      t[#t + 1] = "static const int " .. fresh("FZK") .. " = " .. rsize() .. ";"
    else
      t[#t + 1] = "int " .. fname .. ", *" .. fname .. "p, " .. fname .. "a[2];"
    end
  end
  return table.concat(t, " ")
end

-- Mutations of declaration text.
local PUNCT = { "{", "}", "(", ")", "[", "]", ";", ",", "*", "&", ":", "=", "?",
                "...", "$", "#", "/*", "*/", "//", "\"", "'", "\\", "\0", "\n", "@",
                "struct", "union", "enum", "typedef", "const", "int", "__attribute__",
                "__asm__", "extern", "static", "#pragma pack(", "0x", "9999999999999999999999" }
local function mutate(s)
  for _ = 1, R(1, 4) do
    local k = R(1, 7)
    local i = R(1, #s + 1)
    if k == 1 then s = s:sub(1, i - 1) .. pick(PUNCT) .. s:sub(i)
    elseif k == 2 then s = s:sub(1, i - 1) .. s:sub(i + R(1, 8))
    elseif k == 3 then s = s:sub(1, i - 1)
    elseif k == 4 then local j = R(i, math.min(#s, i + 20)); s = s:sub(1, j) .. s:sub(i, j) .. s:sub(j + 1)
    elseif k == 5 then s = s:sub(1, i - 1) .. ("a"):rep(pick { 63, 64, 65, 255, 256, 1000, 70000 }) .. s:sub(i)
    elseif k == 6 then s = s:sub(1, i - 1) .. (pick { "(", "[", "{", "*" }):rep(R(50, 3000)) .. s:sub(i)
    else s = s:sub(1, i - 1) .. rbytes(R(1, 4)) .. s:sub(i) end
  end
  return s
end

-- Values for `$`: a type, a number, a name, or a wrong kind.
local function rparam()
  local k = R(1, 10)
  if k <= 3 then
    local t = pooled(function(v) return type(v) == "userdata" end)
    if t then return t end
    local ok, ct = pcall(ffi.typeof, pick { "int", "double", "tl_point", "char *", "int[4]" })
    return ok and ct or 1
  elseif k <= 5 then return rnum()
  elseif k <= 7 then return chance(0.5) and pick(FIELDS) or rstr()
  elseif k == 8 then return nil
  elseif k == 9 then return {}
  else return pick { true, print, io.stdout, coroutine.create(print) } end
end

local function rparamlist(s)
  local n = select(2, s:gsub("%$", ""))
  if chance(0.2) then n = n + R(-2, 2) end
  if n < 0 then n = 0 end
  local t = { n = n }
  for i = 1, n do t[i] = rparam() end
  return t
end

-- A declaration text and its names.
local function rdecl()
  local k = R(1, 20)
  local new = {}
  local s
  if k <= 4 then
    local kind = pick { "struct", "union" }
    local tag = chance(0.1) and #TAGS > 0 and pick(TAGS):match("%S+$") or fresh("fzs")
    s = ("%s %s { %s }%s;"):format(kind, tag, rbody(0), chance(0.2) and (" " .. pick(ATTRS)) or "")
    new.tag = kind .. " " .. tag
  elseif k <= 6 then
    local n = fresh("fzt")
    s = "typedef " .. rbase(0) .. " " .. rdeclarator(n, 0) .. ";"
    new.typedef = n
  elseif k == 7 then
    local tag = fresh("fze")
    local t = {}
    for _ = 1, R(0, 5) do
      local c = fresh("FZE")
      t[#t + 1] = chance(0.5) and c or (c .. " = " .. rsize())
      new.consts = new.consts or {}
      new.consts[#new.consts + 1] = c
    end
    s = ("enum %s { %s%s };"):format(tag, table.concat(t, ", "), chance(0.2) and "," or "")
    new.tag = "enum " .. tag
  elseif k == 8 then
    local c = fresh("FZD")
    s = "#define " .. c .. " " .. rsize() .. "\n"
    new.consts = { c }
  elseif k == 9 then
    local c = fresh("FZC")
    s = ("static const %s %s = %s;"):format(pick { "int", "unsigned", "long long", "char", "double", "bool", "uint64_t", "int *" }, c, rsize())
    new.consts = { c }
  elseif k == 10 then
    local f = fresh("fzf")
    s = rbase(0) .. " " .. rdeclarator(f .. "(" .. rparams(1) .. ")", 1) ..
        (chance(0.3) and (' __asm__("' .. fresh("fz_nosym") .. '")') or "") .. ";"
    new.var = f
  elseif k == 11 then
    local v = fresh("fzv")
    s = "extern " .. rbase(0) .. " " .. rdeclarator(v, 0) .. ";"
    new.var = v
  elseif k == 12 then
    s = pick { "#pragma pack(1)", "#pragma pack(2)", "#pragma pack()", "#pragma pack(push, 4)",
               "#pragma pack(pop)", "#pragma pack(3)", "#pragma pack(0)", "#pragma pack(1<<40)",
               "#pragma pack(push)", "#pragma pack(push, 8)", "#pragma pack(-1)",
               "#pragma once", "#pragma weird", "#include <stdio.h>", "#if 0", "#endif",
               "#define", "#define X(a) a", "#undef X", "#pragma pack(push, 1, 2)" } .. "\n" ..
        (chance(0.5) and ("struct " .. fresh("fzp") .. " { char c; int i; double d; };") or "")
  elseif k == 13 then
    local tag = fresh("fzr")
    s = pick {
      "struct %s { struct %s *next; int v; };",
      "struct %s { struct %s self; };",
      "struct %s { struct %s a[2]; };",
      "struct %s; struct %s { int x; };",
      "struct %s { int x; }; struct %s { int x; };",
      "struct %s { int x; }; struct %s { long x; };",
      "typedef struct %s %s; struct %s { %s *p; };",
      "union %s { union %s *u; char c[3]; };",
      "struct %s { char n; struct %s (*f)(struct %s); };",
    }
    s = s:gsub("%%s", tag)
    new.tag = (s:match("^union") and "union " or "struct ") .. tag
  elseif k == 14 then
    local t = fresh("fzt")
    s = ("typedef %s %s;"):format(pick { "$", "$ *", "struct { $ a; $ b[$]; }", "$[$]" }, t)
    new.typedef = t
  elseif k == 15 then
    local tag = fresh("fza")
    local inner = "int zz;"
    for _ = 1, R(1, 70) do inner = pick { "struct { ", "union { " } .. inner .. " };" end
    s = ("struct %s { %s };"):format(tag, inner)
    new.tag = "struct " .. tag
  elseif k == 16 then
    s = pick {
      "int fz_asm_a __asm__(\"fz_nosym_a\");",
      "int tl_add(int a, int b);",
      "int tl_add(long a, long b);",
      "typedef int tl_point;",
      "enum tl_color { TL_RED };",
      "int TL_RED;",
      "void free(int);",
      "typedef struct tl_point tl_point;",
      "typedef struct { int x, y; } tl_point;",
      "typedef struct { int x, y, z; } tl_point;",
    }
  elseif k == 17 then
    local n = fresh("fzt")
    s = "typedef " .. rtype(0) .. " " .. n .. ";"     -- abstract declarator + name: often wrong
    new.typedef = n
  else
    local tag = fresh("fzs")
    s = ("struct %s { %s };"):format(tag, rbody(0))
    new.tag = "struct " .. tag
  end
  return s, new
end

local function register(new, text)
  -- known finding: arrays of an incomplete enum read past their (empty)
  -- storage; a mutated cdef may leave the intended enum tag undeclared
  if new.tag and new.tag:find("^enum") and not KNOWN then
    local ok, sz = pcall(ffi.sizeof, new.tag)
    if not (ok and math.type(sz) == "integer") then new.tag = nil end
  end
  if new.tag then TAGS[#TAGS + 1] = new.tag end
  if new.typedef then TYPEDEFS[#TYPEDEFS + 1] = new.typedef end
  if flexy(text) then
    if new.tag then FLEXNAMES[#FLEXNAMES + 1] = new.tag:match("%S+$") end
    if new.typedef then FLEXNAMES[#FLEXNAMES + 1] = new.typedef end
    if #FLEXNAMES > 200 then table.remove(FLEXNAMES, 1) end
  end
  if new.var then VARS[#VARS + 1] = new.var end
  for _, c in ipairs(new.consts or {}) do CONSTS[#CONSTS + 1] = c end
  for _, t in ipairs { TAGS, TYPEDEFS, VARS, CONSTS } do
    if #t > 300 then table.remove(t, R(10, #t)) end
  end
end

-- Object shapes worth having often: variable-length and flexible records,
-- bitfields, packing, over-alignment, unions, nested aggregates, vectors.
local SHAPES = {
  "char[?]", "int[?]", "double[?]", "tl_point[?]", "uint8_t[?][3]",
  "struct { int n; char s[?]; }", "struct { int n; int v[?]; }",
  "struct { char c; double d[?]; }", "struct { int n; tl_point p[?]; }",
  "struct { int n; char s[]; }", "struct { int n; int v[0]; }", "struct { int n; int v[1]; }",
  "struct { double d; char s[]; }", "union { int i; char c[?]; }",
  "struct { unsigned a : 3, b : 5; int c : 1; long long d : 40; bool e : 1; }",
  "struct { char c; int i; } __attribute__((packed))",
  "struct { char c; int i __attribute__((aligned(64))); }",
  "struct { char c; struct { int x; union { float f; char b[3]; }; }; int z[2][3]; }",
  "union { int i; double d; char s[12]; tl_point p; }",
  "struct { tl_point pts[3]; tl_big big; char name[8]; int *p; int (*fp)(int); }",
  "int __attribute__((vector_size(16)))", "complex double", "complex float", "long double",
  "char[8]", "int[4]", "double[2][2]", "tl_big", "tl_chars", "tl_bits", "tl_packed",
  "enum tl_color", "bool[3]", "int64_t[2]", "uint64_t", "struct { struct { struct { char s[5]; } b; } a; }",
  "struct { const int c; int v; }", "const int[3]", "struct { int n; const char s[?]; }",
  "struct { char s[0]; }", "struct { }", "union { }",
}

-- A type argument ("ct"): a string, a ctype, a cdata, or a wrong kind.
local function rct()
  local k = R(1, 16)
  if k >= 13 then return pick(SHAPES)
  elseif k <= 4 then return rtype(0)
  elseif k <= 6 then return pick(TYPEDEFS) .. pick { "", "", " *", "[2]", "[?]", "[]" }
  elseif k == 7 then return pick(TAGS) .. pick { "", " *", "[3]", "[?]" }
  elseif k <= 9 then
    return pooled(function(v) return type(v) == "userdata" end) or "int"
  elseif k == 10 then return pick(BASES)
  elseif k == 11 then return rstr()
  else return pick { 1, nil, true, {}, print, LIB and LIB.tl_add or 1, ffi.C } end
end

-- Any value, favouring the pool.
local function rval()
  local k = R(1, 20)
  if k <= 7 then return pooled() or rnum()
  elseif k <= 10 then return rnum()
  elseif k <= 12 then return rstr()
  elseif k == 13 then return rtable()
  elseif k == 14 then return nil
  elseif k == 15 then return chance(0.5)
  elseif k == 16 then return rluafunc()
  elseif k == 17 then return pick { ffi.nullptr, ffi.C, LIB or ffi.C, io.stdout }
  elseif k == 18 and LIB then return LIB[pick(CFUNCS).name]
  elseif k == 19 then
    local ok, ct = pcall(ffi.typeof, pick { "int", "double", "tl_point", "int[3]", "int *", "uint64_t", "enum tl_color" })
    return ok and ct or 0
  else return coroutine.create(print) end
end

-- Integers for sizes and counts: small, around a bound, or hostile.
local function rcount(bound)
  local k = R(1, 8)
  if k <= 3 then return R(0, 8)
  elseif k <= 5 and bound then return bound + R(-2, 2)
  elseif k == 6 then return pick { -1, -2, math.mininteger, math.maxinteger, 2^62, 2^63, 2^64, 1 << 62,
                                   (1 << 62) + 1, 0 / 0, 1 / 0, -1 / 0, 0.5, -0.5, 1e300, -1e300,
                                   (1 << 61), 1 << 42, 2^53 + 1, 4294967296, 2147483648 }
  elseif k == 7 then return pick { "4", "x", true, {}, ffi.new("int", 3), ffi.new("uint64_t", -1),
                                   ffi.new("double", 2.5), ffi.new("int64_t", -5), nil }
  else return R(0, 300) end
end

-- Is a memory operand safe for `len` bytes?  Objects and strings are the
-- module's business (it must check them); a pointer we made from an object
-- is ours to keep within its extent; any other pointer is not touched.
local function memok(v, len)
  if type(v) ~= "userdata" then return true end
  if not iscdata(v) then return typestr(v) ~= nil or v == ffi.C end  -- ctypes: must be refused
  if isnullptr(v) then return true end
  local i = info[v]
  if i and i.ext then return math.type(len) == "integer" and len >= 0 and len <= i.ext end
  if i and i.size and not i.ptr then
    -- known finding: extents of records with a flexible/VLA member are not
    -- checked by ffi.string/copy/fill
    if i.flex and not KNOWN then return math.type(len) == "integer" and len >= 0 and len <= i.size end
    return true
  end
  return false
end

-- ---------------------------------------------------------------------
-- Operations
-- ---------------------------------------------------------------------

local OPS = {}
local function op(name, weight, f) OPS[#OPS + 1] = { name = name, w = weight, f = f } end

op("cdef", 10, function()
  local s, new = rdecl()
  if chance(0.15) then s = s .. "\n" .. (rdecl()) end
  if chance(0.25) then s = mutate(s) end
  local params = rparamlist(s)
  local full = ("      cdef text: %q\n"):format(#s > 2000 and s:sub(1, 2000) or s)
  if TRACE then io.stderr:write(full) end
  local r = try(("ffi.cdef(%s%s)"):format(D(s), params.n > 0 and (", " .. Dargs(params)) or ""),
                ffi.cdef, s, table.unpack(params, 1, params.n))
  if r[1] then register(new, s .. " " .. Dargs(params)) end
end)

op("typeof", 8, function()
  local ct = chance(0.8) and rct() or rval()
  local params = type(ct) == "string" and rparamlist(ct) or { n = R(0, 2), rparam(), rparam() }
  local r = try(("ffi.typeof(%s%s)"):format(D(ct), params.n > 0 and (", " .. Dargs(params)) or ""),
                ffi.typeof, ct, table.unpack(params, 1, params.n))
  if r[1] then
    if flexy(ct) or (type(ct) == "string" and ct:find("%$") and flexy(Dargs(params))) then
      if type(r[2]) == "userdata" then FLEXCT[r[2]] = true end
    end
    add(r[2], nil, "T")
    if chance(0.3) then try(("tostring(%s)"):format(D(r[2])), tostring, r[2]) end
  end
end)

local function newobj(ct, args, how)
  -- Skip sizes a machine would really allocate (slow, and not a bug).
  local okS, sz = pcall(ffi.sizeof, ct, math.type(args[1]) == "integer" and args[1] or nil)
  if okS and math.type(sz) == "integer" and sz > (1 << 22) and sz < (1 << 42) then return end
  if args.n >= 1 and type(args[1]) == "number" then
    local okV, vsz = pcall(ffi.sizeof, ct, args[1])
    if okV and math.type(vsz) == "integer" and vsz > (1 << 22) and vsz < (1 << 42) then return end
    if okV and vsz == nil and math.type(args[1]) == "float" then
      -- a float count that sizeof refuses: new must refuse it too
    end
  end
  local r
  if how == "call" then
    r = try(("%s(%s)"):format(D(ct), Dargs(args)), function(...) return ct(...) end, table.unpack(args, 1, args.n))
  else
    r = try(("ffi.new(%s%s)"):format(D(ct), args.n > 0 and (", " .. Dargs(args)) or ""),
            ffi.new, ct, table.unpack(args, 1, args.n))
  end
  if r[1] and type(r[2]) == "userdata" then
    local v = r[2]
    local inf = objinfo(v)
    inf.flex = flexy(ct) or nil
    if isfptr(v) then
      -- made from a Lua function: an explicit callback we may call
      for i = 1, args.n do if type(args[i]) == "function" then inf.call, inf.cb = true, true end end
    end
    add(v, inf, "c")
  end
  return r
end

op("new", 12, function()
  local ct = rct()
  local args = { n = 0 }
  local vla = type(ct) == "string" and ct:find("%?") or chance(0.2)
  if vla then args.n = 1; args[1] = rcount() end
  for _ = 1, R(0, 3) do
    args.n = args.n + 1
    args[args.n] = chance(0.3) and rtable() or rval()
  end
  if chance(0.3) then args.n = vla and 1 or 0 end
  -- guard: huge VLA counts must be refused, medium ones we skip
  if vla and type(args[1]) == "number" and args[1] == args[1] and args[1] > (1 << 20) and args[1] < 2^42 then
    args[1] = 3
  end
  newobj(ct, args)
end)

op("new_vla_huge", 3, function()
  local ct = pick { "char[?]", "int[?]", "double[?]", "tl_big[?]", "struct { int n; char s[?]; }",
                    "struct { int n; tl_big b[?]; }", "uint8_t[?][4]", "int[?][1000000]", "char[?][0]" }
  local n = pick { 2^62, 2^63, 1 << 62, (1 << 62) + 7, math.maxinteger, math.mininteger, -1, 0 / 0,
                   1 / 0, 2^64, 1 << 42, (1 << 61) + 3, 2305843009213693952, 4611686018427387904,
                   ffi.new("uint64_t", -1), ffi.new("int64_t", -1), 1e19, -0.0 }
  local r = try(("ffi.new(%q, %s)"):format(ct, D(n)), ffi.new, ct, n)
  if r[1] then
    local okS, s = pcall(ffi.sizeof, r[2])
    if not okS or not s or s > (1 << 30) then
      finding("huge VLA accepted", ("ffi.new(%q, %s)"):format(ct, D(n)), tostring(s))
    end
  end
  try(("ffi.sizeof(%q, %s)"):format(ct, D(n)), ffi.sizeof, ct, n)
end)

op("typecall", 4, function()
  local ct = pooled(isctype)
  if not ct then return end
  local args = { n = R(0, 3) }
  for i = 1, args.n do args[i] = rval() end
  if tostring(ct):find("%?") then args[1] = rcount() ; args.n = math.max(args.n, 1) end
  if type(args[1]) == "number" and args[1] == args[1] and args[1] > (1 << 20) and args[1] < 2^42 then args[1] = 2 end
  newobj(ct, args, "call")
end)

op("cast", 8, function()
  local ct = chance(0.6) and pick { "int", "uint8_t", "int64_t", "uint64_t", "double", "float", "bool",
                                     "void *", "char *", "const char *", "intptr_t", "uintptr_t",
                                     "enum tl_color", "int (*)(int)", "int (*)(int, int)",
                                     "int (*)(const void *, const void *)", "void (*)(void)",
                                     "tl_point", "tl_point *", "int[4]", "int[?]", "complex",
                                     "long double", "struct cbt_big (*)(struct cbt_big)",
                                     "int *", "double *", "tl_big *", "char (*)[8]", "void" }
                   or rct()
  local v = chance(0.3) and rluafunc() or rval()
  -- known finding: a cast to a huge aggregate allocates it before failing
  local okS, sz = pcall(ffi.sizeof, ct)
  if not KNOWN and okS and math.type(sz) == "integer" and sz > (1 << 22) then return end
  local r = try(("ffi.cast(%s, %s)"):format(D(ct), D(v)), ffi.cast, ct, v)
  if r[1] and type(r[2]) == "userdata" then
    local res = r[2]
    local inf = objinfo(res)
    -- only a Lua function becomes a callback; a library function cast to an
    -- unrelated signature is not safe to call
    if type(v) == "function" and debug.getinfo(v, "S").what == "Lua" and isfptr(res) then
      inf.call, inf.cb = true, true
    end
    -- a pointer made from one of our objects: we know how far it reaches
    local vi = iscdata(v) and info[v]
    local vt = iscdata(v) and typestr(v) or ""
    local agg = vt:find("^struct") or vt:find("^union") or vt:find("%]$")
    if inf.ptr and vi and vi.size and not vi.ptr and agg then inf.ext = vi.size end
    if inf.ptr and type(v) == "string" and not isfptr(res) then
      inf.ext = #v + 1; inf.ro = true
      KEEP[#KEEP + 1] = v           -- the pointer points into it
    end
    add(res, inf, "c")
  end
end)

op("sizes", 6, function()
  local ct = chance(0.8) and rct() or rval()
  local k = R(1, 4)
  if k == 1 then
    local n = chance(0.5) and rcount() or nil
    try(("ffi.sizeof(%s, %s)"):format(D(ct), D(n)), ffi.sizeof, ct, n)
  elseif k == 2 then
    try(("ffi.alignof(%s)"):format(D(ct)), ffi.alignof, ct)
  elseif k == 3 then
    local f = chance(0.7) and pick(FIELDS) or rval()
    try(("ffi.offsetof(%s, %s)"):format(D(ct), D(f)), ffi.offsetof, ct, f)
  else
    local v = rval()
    try(("ffi.istype(%s, %s)"):format(D(ct), D(v)), ffi.istype, ct, v)
  end
end)

-- Keys to index an object with.
local function rkey(v)
  local i = info[v] or {}
  local k = R(1, 12)
  if k <= 4 then return pick(FIELDS)
  elseif k <= 7 then
    local n = i.len or 4
    return pick { 0, 1, n - 1, n, n + 1, -1, -2, n * 2, math.maxinteger, math.mininteger,
                  2^63, -2^63, 0 / 0, 1 / 0, 0.5, -0.0, n - 0.5, 1 << 32, (1 << 62) // 3 }
  elseif k == 8 then return rstr()
  elseif k == 9 then return pick { ffi.new("int", 1), ffi.new("uint64_t", -1), ffi.new("double", 1.5),
                                   ffi.new("int64_t", math.mininteger), ffi.new("bool", true), ffi.new("int8_t", -1) }
  elseif k == 10 then return pick { true, false, {}, print }
  elseif k == 11 then return rval()
  else return R(0, math.max(0, (i.len or 4) - 1)) end
end

-- May we index v with key?  Bounded objects: anything (the module checks).
local function indexok(v, key)
  if type(v) ~= "userdata" then return true end
  if not iscdata(v) then return true end       -- ctypes
  if isnullptr(v) then return true end
  local i = info[v] or {}
  local isnum = type(key) == "number" or (iscdata(key) and ffi.tonumber(key) ~= nil)
  if i.ptr then
    if isfptr(v) then return true end          -- no element size: refused before any read
    if not i.ext then return false end
    local ts = typestr(v) or ""
    -- element size: (p + 1) - p in bytes
    local ok, esz = pcall(function() return ffi.cast("uintptr_t", v + 1) - ffi.cast("uintptr_t", v) end)
    if not ok or math.type(esz) ~= "integer" or esz <= 0 then return not isnum and not ts:find("^struct") and not ts:find("^union") end
    if i.ro and not isnum then return false end
    if isnum then
      local n = ffi.tonumber(key) or key
      if n ~= n or n == math.huge or n == -math.huge then return false end
      n = math.tointeger(n >= 0 and math.floor(n) or math.ceil(n))
      return n ~= nil and n >= 0 and n < i.ext // esz
    end
    return esz <= i.ext
  end
  if i.size or i.len then return true end
  -- an array without a known length (flexible member): no integer keys
  return not isnum
end

op("index", 14, function()
  local v = pooled() or ffi.C
  local key = rkey(v)
  if not indexok(v, key) then return end
  local r = try(("%s[%s]"):format(D(v), D(key)), function() return v[key] end)
  if r[1] and type(r[2]) == "userdata" and iscdata(r[2]) then
    local inf = objinfo(r[2])
    local vi = info[v]
    if inf.ptr and not isnullptr(r[2]) then inf.ext = nil end   -- read from memory: unknown
    if vi and vi.ro then inf.ro = true end
    if vi and vi.flex then inf.flex = true end
    add(r[2], inf, "c")
  end
end)

op("newindex", 12, function()
  local v = pooled() or ffi.C
  local key = rkey(v)
  local val = chance(0.2) and rtable() or rval()
  if not indexok(v, key) then return end
  local i = info[v]
  if i and i.ro then return end               -- a pointer into a Lua string
  -- known finding: a string or table assigned to a flexible/VLA member
  if i and i.flex and not KNOWN and (type(val) == "string" or type(val) == "table") then return end
  if v == ffi.C or v == LIB then
    -- only variables C never reads through
    key = pick { "tl_global_int", "tl_global_double", "tl_global_float", "tl_global_i64",
                 "tl_global_u8", "tl_global_bool", "tl_global_const", "tl_global_array",
                 "tl_global_point", "tl_global_buf", "tl_global_color", "optind", "opterr",
                 "tl_add", "tl_nothing", "abs", pick(CONSTS), rstr() }
    if key == "tl_global_fn" then return end
  end
  local ns = v == ffi.C or v == LIB
  local old = ns and rawget(v, key)
  try(("%s[%s] = %s"):format(D(v), D(key), D(val)), function() v[key] = val end)
  if ns then rawset(v, key, old) end
end)

local ARITH = {
  { "+", function(a, b) return a + b end }, { "-", function(a, b) return a - b end },
  { "*", function(a, b) return a * b end }, { "/", function(a, b) return a / b end },
  { "%", function(a, b) return a % b end }, { "^", function(a, b) return a ^ b end },
  { "//", function(a, b) return a // b end }, { "&", function(a, b) return a & b end },
  { "|", function(a, b) return a | b end }, { "~", function(a, b) return a ~ b end },
  { "<<", function(a, b) return a << b end }, { ">>", function(a, b) return a >> b end },
  { "..", function(a, b) return a .. b end }, { "==", function(a, b) return a == b end },
  { "<", function(a, b) return a < b end }, { "<=", function(a, b) return a <= b end },
  { "u-", function(a) return -a end }, { "u~", function(a) return ~a end },
  { "u#", function(a) return #a end },
}

op("arith", 12, function()
  local a = pooled(iscdata) or ffi.new("int", 1)
  local b = chance(0.5) and rnum() or rval()
  if chance(0.5) then a, b = b, a end
  local o = pick(ARITH)
  local r = try(("%s %s %s"):format(D(a), o[1], D(b)), o[2], a, b)
  if r[1] and type(r[2]) == "userdata" then
    local res = r[2]
    local inf = objinfo(res)
    -- pointer arithmetic on one of our objects: track the extent
    if inf.ptr and (o[1] == "+" or o[1] == "-") then
      local base, k = a, b
      if not iscdata(base) or not info[base] then base, k = b, a end
      local bi = iscdata(base) and info[base]
      if bi and math.type(k) == "integer" then
        local ok, esz = pcall(function() return ffi.cast("uintptr_t", res + 1) - ffi.cast("uintptr_t", res) end)
        if o[1] == "-" then k = -k end
        local bt = typestr(base) or ""
        local total = bi.ext or (not bi.ptr and bt:find("%]$") and bi.size)
        if ok and math.type(esz) == "integer" and total and k >= 0 and k * esz <= total then
          inf.ext = total - k * esz
          inf.ro = bi.ro
        end
      end
    end
    add(res, inf, "c")
  end
end)

op("misc", 6, function()
  local v = rval()
  local k = R(1, 9)
  if k == 1 then try(("tostring(%s)"):format(D(v)), tostring, v)
  elseif k == 2 then try(("ffi.tonumber(%s)"):format(D(v)), ffi.tonumber, v)
  elseif k == 3 then local b = rval(); try(("ffi.tonumber(%s, %s)"):format(D(v), D(b)), ffi.tonumber, v, b)
  elseif k == 4 then try(("ffi.isnull(%s)"):format(D(v)), ffi.isnull, v)
  elseif k == 5 then
    local e = chance(0.5) and rnum() or v
    try(("ffi.errno(%s)"):format(D(e)), ffi.errno, e)
  elseif k == 6 then try(("ffi.abi(%s)"):format(D(v)), ffi.abi, chance(0.5) and pick { "64bit", "le", "hardfp", "eabi", "win", "uwp", "fpu", "32bit", "be", "softfp", "pauth", "elfv2" } or v)
  elseif k == 7 then try("ffi._slowpath(...)", ffi._slowpath, chance(0.5))
  elseif k == 8 then
    local f = ffi[pick { "cdef", "typeof", "new", "cast", "metatype", "gc", "sizeof", "alignof",
                         "offsetof", "istype", "string", "copy", "fill", "tonumber", "load",
                         "dlclose", "addressof", "errno", "isnull", "abi" }]
    local args = { n = R(0, 4) }
    for i = 1, args.n do args[i] = rval() end
    -- raw memory functions only with operands they must check themselves
    if f == ffi.string or f == ffi.copy or f == ffi.fill then
      for i = 1, args.n do if not memok(args[i], 64) then return end end
      if f ~= ffi.string and args.n >= 1 and type(args[1]) == "string" then return end
      if f == ffi.string and args.n >= 1 and type(args[1]) == "userdata" and not info[args[1]] then return end
      if iscdata(args[1]) and (info[args[1]] or {}).ext then return end
      if iscdata(args[2]) and (info[args[2]] or {}).ext then return end
      if iscdata(args[1]) and isfptr(args[1]) then return end
      if type(args[1]) == "function" or type(args[2]) == "function" then return end
      if args[1] == io.stdout or args[2] == io.stdout then return end
    end
    if f == ffi.gc then return end
    if f == ffi.dlclose and args[1] == LIB then return end
    if f == ffi.new or f == ffi.cast then
      if type(args[2]) == "number" and args[2] > (1 << 20) and args[2] < 2^42 then return end
      local okS, sz = pcall(ffi.sizeof, args[1])
      if okS and math.type(sz) == "integer" and sz > (1 << 22) then return end
    end
    if (f == ffi.string or f == ffi.copy or f == ffi.fill) and not KNOWN then
      for i = 1, args.n do if iscdata(args[i]) and (info[args[i]] or {}).flex then return end end
    end
    try(("ffi.<random>(%s)"):format(Dargs(args)), f, table.unpack(args, 1, args.n))
  else
    try(("ipairs/pairs(%s)"):format(D(v)), function()
      if iscdata(v) and not (info[v] and (info[v].len or info[v].size)) and not isnullptr(v) then return end
      for _ in pairs(v) do end
    end)
  end
end)

-- Memory operands for string/copy/fill.
local function rmem()
  local k = R(1, 10)
  if k <= 4 then
    return pooled(function(v) return iscdata(v) and info[v] ~= nil and (info[v].size or info[v].ext) end)
           or ffi.new("char[8]")
  elseif k == 5 then
    local ct = pick(SHAPES)
    local ok, v = pcall(ffi.new, ct, R(0, 9))
    if not ok then ok, v = pcall(ffi.new, ct) end
    if ok then
      local inf = objinfo(v)
      inf.flex = flexy(ct) or nil
      add(v, inf, "c")
      return v
    end
    return ffi.new("char[3]")
  elseif k == 6 then return rstr()
  elseif k == 7 then return pick { nil, ffi.nullptr, ffi.new("char *"), ffi.cast("int *", 0) }
  elseif k == 8 then return pick { 1, {}, true, print, ffi.typeof("int"), ffi.C }
  elseif k == 9 then
    local n = R(0, 20)
    local v = ffi.new("char[?]", n)
    add(v, objinfo(v), "c")
    return v
  else return ffi.new(pick { "int[3]", "tl_point", "char[1]", "tl_big", "double", "uint8_t[0]" }) end
end

local function extof(v)
  if type(v) == "string" then return #v end
  local i = iscdata(v) and info[v]
  if i then return i.ext or i.size end
  return 16
end

op("memory", 10, function()
  local k = R(1, 3)
  local a, b = rmem(), rmem()
  local bound = extof(a) or 8
  local len = chance(0.8) and rcount(bound) or rval()
  if k == 1 then
    if chance(0.3) then len = nil end
    if not memok(a, len == nil and 0 or len) then return end
    if len == nil and iscdata(a) and (info[a] or {}).ext then return end   -- strlen of our pointer
    if len == nil and iscdata(a) and (info[a] or {}).flex and not KNOWN then return end  -- known finding
    try(("ffi.string(%s, %s)"):format(D(a), D(len)), ffi.string, a, len)
  elseif k == 2 then
    if type(a) == "string" or (info[a] or {}).ro then a = ffi.new("char[16]") end
    if chance(0.3) then
      if type(b) ~= "string" then b = rstr() end
      if not memok(a, #b + 1) then return end
      try(("ffi.copy(%s, %s)"):format(D(a), D(b)), ffi.copy, a, b)
    else
      if not memok(a, len) or not memok(b, len) then return end
      try(("ffi.copy(%s, %s, %s)"):format(D(a), D(b), D(len)), ffi.copy, a, b, len)
    end
  else
    if type(a) == "string" or (info[a] or {}).ro then a = ffi.new("char[16]") end
    if not memok(a, len) then return end
    local c = chance(0.5) and rnum() or rval()
    try(("ffi.fill(%s, %s, %s)"):format(D(a), D(len), D(c)), ffi.fill, a, len, c)
  end
end)

-- A value for a function-pointer parameter of type fpt.
local function rfparg(fpt)
  local k = R(1, 8)
  if k <= 3 then return rluafunc()
  elseif k == 4 then
    local r = try(("ffi.cast(%q, <fn>)"):format(fpt), ffi.cast, fpt, rluafunc())
    if r[1] then local cb = r[2]; add(cb, { call = true, cb = true, ptr = true }, "cb"); return cb end
    return nil
  elseif k == 5 then
    -- a live callback of any type from the pool (wrong types must be refused)
    return pooled(function(v) return iscdata(v) and info[v] and info[v].cb and not info[v].freed end) or rluafunc()
  elseif k == 6 then return pick { 1, "f", {}, true, ffi.new("int", 1), ffi.new("tl_point") }
  elseif k == 7 and LIB then return LIB.tl_add1
  else return rluafunc() end
end

op("ccall", 10, function()
  local f = pick(CFUNCS)
  local fn = f.ns[f.name]
  local args = { n = f.n }
  for i = 1, f.n do
    if f.fp[i] then args[i] = rfparg(f.fp[i])
    else args[i] = chance(0.7) and rnum() or rval() end
    if f.fp[i] and args[i] == nil then return end
  end
  if f.name == "cbt_call_n" then args[2] = R(-2, 30) end
  if f.var then
    local extra = R(0, 6)
    for i = 1, extra do args[f.n + i] = chance(0.6) and rnum() or rval() end
    args[1] = R(0, extra)
    args.n = f.n + extra
  elseif chance(0.1) then
    args.n = args.n + R(-1, 2)
    if args.n < 0 then args.n = 0 end
  end
  for i = 1, args.n do
    -- callbacks and function pointers only where a function pointer goes
    if not f.fp[i] and (isfptr(args[i]) or type(args[i]) == "function") and f.var then args[i] = 0 end
  end
  local r = try(("%s(%s)"):format(f.name, Dargs(args)), fn, table.unpack(args, 1, args.n))
  if r[1] and type(r[2]) == "userdata" then
    local inf = objinfo(r[2])
    if f.name == "tl_get_add1" then inf.call = true end
    if f.name == "tl_hello" then inf.ext = 6; inf.ro = true end
    if f.name == "tl_str_or_null" then inf.ext = 4; inf.ro = true end
    add(r[2], inf, "c")
  end
end)

op("callptr", 5, function()
  -- call a function pointer: a live callback, or a correctly typed C function
  local fp = pooled(function(v) return iscdata(v) and info[v] and info[v].call and not info[v].freed end)
  if not fp and LIB then
    local r = try("ffi.cast('int (*)(int, int)', LIB.tl_add)", ffi.cast, "int (*)(int, int)", LIB.tl_add)
    if r[1] then fp = r[2]; add(fp, { call = true, ptr = true }, "c") end
  end
  if not fp then return end
  local args = { n = R(0, 4) }
  for i = 1, args.n do args[i] = chance(0.6) and rnum() or rval() end
  local r = try(("%s(%s)"):format(D(fp), Dargs(args)), fp, table.unpack(args, 1, args.n))
  if r[1] and type(r[2]) == "userdata" then add(r[2], objinfo(r[2]), "c") end
end)

op("callback", 8, function()
  local k = R(1, 10)
  if k <= 3 then
    -- qsort with a comparator of random behaviour over an array we own
    local n = R(0, 12)
    local arr = ffi.new("int[?]", n + 1)
    for i = 0, n do arr[i] = R(-50, 50) end
    local cmp = rfparg("int (*)(const void *, const void *)")
    if cmp == nil then return end
    local inco = chance(0.3)
    local function run() return ffi.C.qsort(arr, n, 4, cmp) end
    if inco then
      try(("coroutine qsort(arr[%d], %s)"):format(n, D(cmp)), function()
        local co = coroutine.wrap(run)
        return co()
      end)
    else
      try(("qsort(arr[%d], %s)"):format(n, D(cmp)), run)
    end
  elseif k == 4 then
    -- explicit callback: create, use, set, free, use again (error), free again
    local fpt = pick { "int (*)(int)", "int (*)(int, int)", "void (*)(void)", "double (*)(double)",
                       "struct cbt_pt (*)(struct cbt_pt)", "int (*)(const void *, const void *)",
                       "long double (*)(long double)", "int (*)(int, ...)", "tl_big (*)(tl_big)",
                       "int (*)(struct fz_undefined)", "int (*)(int[?])", "void", "int" }
    local r = try(("ffi.cast(%q, fn)"):format(fpt), ffi.cast, fpt, rluafunc())
    if not r[1] then return end
    local cb = r[2]
    add(cb, { call = true, cb = true, ptr = true }, "cb")
    local args = { n = R(0, 2), rnum(), rval() }
    try(("%s(%s)"):format(D(cb), Dargs(args)), cb, table.unpack(args, 1, args.n))
    if chance(0.5) then try(("%s:set(fn)"):format(D(cb)), function() return cb:set(rluafunc()) end) end
    if chance(0.3) then try(("%s:set(%s)"):format(D(cb), "bad"), function() return cb:set(rval()) end) end
    try(("%s:free()"):format(D(cb)), function() return cb:free() end)
    info[cb].freed = true
    -- right after free, before any closure can be reused: a clean error
    try(("%s(%s) after free"):format(D(cb), Dargs(args)), cb, table.unpack(args, 1, args.n))
    try(("%s:free() again"):format(D(cb)), function() return cb:free() end)
    try(("%s:set() after free"):format(D(cb)), function() return cb:set(print) end)
    try(("%s.free(%s)"):format(D(cb), "other"), function() return cb.free(rval()) end)
  elseif k == 5 and LIB then
    -- a stored callback, freed (or its function collected), then called by C
    local explicit = chance(0.5)
    local f = rluafunc()
    local cbv = f
    if explicit then
      local r = try("ffi.cast('int (*)(int)', fn)", ffi.cast, "int (*)(int)", f)
      if not r[1] then return end
      cbv = r[2]
    end
    try(("cbt_store(%s)"):format(D(cbv)), LIB.cbt_store, cbv)
    try("cbt_call_stored(1)", LIB.cbt_call_stored, 1)
    if explicit then try("cb:free()", function() return cbv:free() end) else f, cbv = nil, nil; collectgarbage() end
    try("cbt_call_stored(2) after free", LIB.cbt_call_stored, 2)
    try("cbt_store(nil)", LIB.cbt_store, nil)
    -- the same through a C global
    local g = rluafunc()
    try("tl_global_fn = fn", function() LIB.tl_global_fn = g end)
    try("tl_global_fn_call(3)", LIB.tl_global_fn_call, 3)
    g = nil
    collectgarbage()
    try("tl_global_fn_call(4) after collect", LIB.tl_global_fn_call, 4)
    try("tl_reset_globals()", LIB.tl_reset_globals)
  elseif k == 6 then
    -- implicit callbacks made in a loop (they must be collected)
    if not LIB then return end
    for i = 1, R(1, 40) do
      local f = function(x) return x + i end
      try("tl_call_int(fresh fn)", LIB.tl_call_int, f, i)
    end
    if chance(0.3) then collectgarbage() end
  elseif k == 7 and LIB then
    -- a callback that frees itself while C is calling it
    local cb
    cb = ffi.cast("int (*)(int)", function(x) cb:free() return x end)
    add(cb, { cb = true, ptr = true, freed = true }, "cb")
    try("cbt_twice(self-freeing cb)", LIB.cbt_twice, cb, 1)
  elseif k == 8 and LIB then
    -- a callback that replaces its own function while running
    local cb
    cb = ffi.cast("int (*)(int)", function(x) cb:set(function(y) return y * 2 end) return x end)
    add(cb, { cb = true, call = true, ptr = true }, "cb")
    try("cbt_twice(self-setting cb)", LIB.cbt_twice, cb, 5)
  elseif k == 9 and LIB then
    -- nested: callback -> C -> callback, erroring at a random depth
    local depth = R(1, 250)
    local function f(x)
      if x >= depth then error("deep " .. x) end
      return LIB.tl_call_int(f, x + 1)
    end
    try(("nested callbacks to depth %d"):format(depth), LIB.tl_call_int, f, 0)
  elseif LIB then
    -- callbacks with aggregate arguments and results
    local which = pick { "cbt_pt", "cbt_big", "cbt_union", "cbt_ldbl", "cbt_cdbl", "cbt_str", "cbt_null" }
    local f = rluafunc()
    try(("%s(fn)"):format(which), LIB[which], f, rnum(), rnum())
  end
end)

op("metatype", 5, function()
  local tag = fresh("fzm")
  local body = chance(0.7) and "int a; double b; char s[8]; struct " .. tag .. " *next; int (*fp)(int);" or rbody(0)
  local r = try(("ffi.cdef('struct %s { %s };')"):format(tag, body), ffi.cdef, ("struct %s { %s };"):format(tag, body))
  if not r[1] then return end
  local ct = "struct " .. tag
  if flexy(body) then FLEXNAMES[#FLEXNAMES + 1] = tag end
  local mt = {}
  local MMS = { "__index", "__newindex", "__add", "__sub", "__mul", "__div", "__mod", "__pow",
                "__unm", "__idiv", "__band", "__bor", "__bxor", "__shl", "__shr", "__bnot",
                "__len", "__concat", "__call", "__tostring", "__eq", "__lt", "__le", "__new",
                "__gc", "__close", "__name", "__metatable", "__pairs", "__mode" }
  for _ = 1, R(0, 10) do
    local m = pick(MMS)
    local k = R(1, 8)
    if m == "__index" and k <= 3 then
      mt[m] = { get = function(self) return self.a end, [1] = 5, a = 6, free = rluafunc() }
    elseif m == "__index" and k == 4 then
      mt[m] = function(self, key) return self[key] end        -- recursion
    elseif m == "__new" and k <= 3 then
      mt[m] = function(T, ...) return ffi.new(T, ...) end
    elseif m == "__new" and k == 4 then
      mt[m] = function(T, ...) return T(...) end               -- recursion
    elseif m == "__gc" and k <= 2 then
      local RES = KEEP
      mt[m] = function(self) RES[#RES + 1] = self end          -- resurrection
    elseif m == "__gc" and k == 3 then
      mt[m] = function(self) return self.a + self.next end
    elseif k == 8 then
      mt[m] = rval()
    else
      mt[m] = rluafunc()
    end
  end
  local target = chance(0.9) and ct or rct()
  r = try(("ffi.metatype(%q, mt)"):format(target), ffi.metatype, target, chance(0.95) and mt or rval())
  try(("ffi.metatype(%q, mt) again"):format(ct), ffi.metatype, ct, {})
  local T = r[1] and r[2] or nil
  if T and type(T) == "userdata" then add(T, nil, "T") end
  -- exercise instances
  for _ = 1, R(1, 4) do
    local how = R(1, 4)
    local obj
    if how == 1 and T then
      local q = try(("%s()"):format(D(T)), function() return T() end)
      obj = q[1] and q[2]
    elseif how == 2 and T then
      local q = try(("%s(1, 2.5, 'xy')"):format(D(T)), function() return T(1, 2.5, "xy") end)
      obj = q[1] and q[2]
    elseif how == 3 then
      local q = try(("ffi.new(%q)"):format(ct), ffi.new, ct)
      obj = q[1] and q[2]
    else
      local q = try(("ffi.new(%q)"):format(ct .. "[2]"), ffi.new, ct .. "[2]")
      if q[1] and type(q[2]) == "userdata" then
        local ai = objinfo(q[2])
        ai.flex = flexy(ct) or nil
        add(q[2], ai, "c")
        local e = try("arr[0]", function() return q[2][0] end)
        obj = e[1] and e[2]
      end
    end
    -- __new may return anything: only instances of the type go on
    if type(obj) == "userdata" and iscdata(obj) and typestr(obj) == ct then
      local oi = objinfo(obj)
      oi.flex = flexy(ct) or nil
      add(obj, oi, "c")
      local p = ffi.cast(ct .. " *", obj)
      local okz, sz = pcall(ffi.sizeof, obj)
      add(p, { ptr = true, ext = okz and math.type(sz) == "integer" and sz or nil }, "c")
      if not (okz and math.type(sz) == "integer") then p = obj end
      for _ = 1, R(1, 6) do
        local which = R(1, 12)
        local x = chance(0.5) and obj or p
        if which <= 3 then
          local key = chance(0.5) and pick { "a", "b", "s", "next", "fp", "get", "free", 1, "zz" } or rkey(obj)
          if type(key) == "number" and x == p and key ~= 0 then key = 0 end
          try(("%s[%s]"):format(D(x), D(key)), function() return x[key] end)
        elseif which == 4 then
          local key = pick { "a", "b", "s", "next", "fp", "zz", 1 }
          local val = rval()
          if x == p and key == 1 then key = "a" end
          try(("%s[%s] = %s"):format(D(x), D(key), D(val)), function() x[key] = val end)
        elseif which <= 7 then
          local o = pick(ARITH)
          local y = chance(0.5) and rnum() or obj
          try(("%s %s %s"):format(D(x), o[1], D(y)), o[2], x, y)
        elseif which == 8 then
          try(("tostring(%s)"):format(D(x)), tostring, x)
        elseif which == 9 then
          local args = { n = R(0, 3), rval(), rval(), rval() }
          try(("%s(...)"):format(D(x)), x, table.unpack(args, 1, args.n))
        elseif which == 10 then
          try(("local x <close> = %s"):format(D(x)), function()
            local c <close> = x
            return 1
          end)
        elseif which == 11 then
          try(("%s:get()"):format(D(x)), function() return x:get() end)
        else
          try(("pairs(%s)"):format(D(x)), function() for _ in pairs(x) do end end)
        end
      end
    end
  end
end)

op("gc", 4, function()
  local v = pooled(iscdata) or ffi.new("int")
  local k = R(1, 7)
  local fin
  if k <= 3 then fin = rluafunc()
  elseif k == 4 then fin = nil
  elseif k == 5 then fin = pick { 1, "x", {}, true, ffi.new("int", 1) }
  elseif k == 6 and LIB then fin = pick { LIB.tl_noop, LIB.tl_is_null, LIB.tl_ptr_to_int }
  else fin = pooled(function(x) return iscdata(x) and info[x] and info[x].cb and not info[x].freed end) or rluafunc() end
  -- our finalizers may not consume randomness: rluafunc's never do
  local target = chance(0.9) and v or rval()
  try(("ffi.gc(%s, %s)"):format(D(target), D(fin)), ffi.gc, target, fin)
  if chance(0.2) then try(("ffi.gc(%s, nil)"):format(D(target)), ffi.gc, target, nil) end
  if chance(0.3) then
    local fresh_obj = ffi.new(pick { "int[4]", "tl_point", "char[1]", "double" })
    try("ffi.gc(fresh, fin); drop; collect", function()
      ffi.gc(fresh_obj, fin)
      fresh_obj = nil
      collectgarbage()
    end)
  end
end)

local LIBNAMES = { "m", "c", "dl", "z", "", "nonexistent_fz", "/nonexistent/libx.so", "/etc/passwd", "/",
                   "/tmp", ".", "..", ("a"):rep(5000), "x\0y", "libc.so.6", "libm.so.6", "./spec/lib/libcffitest.so",
                   "/proc/self/exe", "/dev/null", "%s%s%s", "c\n", "lib", "../../../../etc/passwd", "ld-linux-x86-64.so.2" }
local LOADED = {}
op("lib", 5, function()
  local k = R(1, 9)
  if k <= 2 then
    local name = chance(0.85) and pick(LIBNAMES) or rval()
    local flags = pick { nil, true, false, ffi.RTLD_NOW, ffi.RTLD_LAZY, ffi.RTLD_GLOBAL, ffi.RTLD_NOLOAD,
                         (ffi.RTLD_NOW or 2) | (ffi.RTLD_NOLOAD or 4), -9, 0, math.mininteger, 0x7ffffff7,
                         2.5, "now", {}, 1 << 40 }   -- never RTLD_DEEPBIND (8): ASan refuses it
    if name == "/proc/self/exe" then return end       -- dlopen of an executable: glibc's business
    local r = try(("ffi.load(%s, %s)"):format(D(name), D(flags)), ffi.load, name, flags)
    if r[1] then LOADED[#LOADED + 1] = r[2]; add(r[2], nil, "lib") end
  elseif k == 3 then
    local lib = #LOADED > 0 and pick(LOADED) or rval()
    if lib == LIB then return end     -- function pointers cast from it must stay valid
    try(("ffi.dlclose(%s)"):format(D(lib)), ffi.dlclose, lib)
  elseif k == 4 then
    local lib = pick { ffi.C, LIB or ffi.C, #LOADED > 0 and pick(LOADED) or ffi.C }
    local key = chance(0.7) and pick { "tl_add", "tl_global_int", "abs", "qsort", "TL_RED", "tl_nothing_fz",
                                       "tl_global_array", "tl_global_point", "environ", "optind",
                                       "tl_global_fn", "tl_global_const", pick(CONSTS) } or rkey(lib)
    if #VARS > 0 and chance(0.2) then key = pick(VARS) end
    local r = try(("%s[%s]"):format(D(lib), D(key)), function() return lib[key] end)
    if r[1] and r[2] ~= nil then
      local inf = iscdata(r[2]) and objinfo(r[2]) or nil
      if inf and inf.ptr then inf.ext = nil end
      if type(r[2]) ~= "function" then add(r[2], inf, "c") end
      if type(r[2]) == "function" and chance(0.5) and LIB and key == "tl_add" then
        local f = r[2]
        try("fetched tl_add(1, 2)", f, 1, 2)
      end
    end
  elseif k == 5 then
    local lib = pick { ffi.C, LIB or ffi.C, #LOADED > 0 and pick(LOADED) or ffi.C }
    try(("pairs(%s)"):format(D(lib)), function()
      local n = 0
      for name, val in pairs(lib) do
        n = n + 1
        if n > 2000 then break end
      end
      return n
    end)
  elseif k == 6 then
    local lib = pick { ffi.C, LIB or ffi.C, #LOADED > 0 and pick(LOADED) or ffi.C, rval() }
    local name = chance(0.7) and pick { "tl_add", "tl_global_int", "abs", "TL_RED", "nothing", "environ", "tl_global_const" } or rval()
    local r = try(("ffi.addressof(%s, %s)"):format(D(lib), D(name)), ffi.addressof, lib, name)
    if r[1] and iscdata(r[2]) then add(r[2], { ptr = true }, "c") end
  elseif k == 7 then
    -- a fresh handle of the spec library: fetch, close, use
    local r = try("ffi.load(LIBPATH)", ffi.load, LIBPATH)
    if not r[1] then return end
    local lib = r[2]
    local f = try("lib.tl_add", function() return lib.tl_add end)
    local g = try("lib.tl_global_int", function() return lib.tl_global_int end)
    try("ffi.dlclose(lib)", ffi.dlclose, lib)
    if f[1] then
      try("closed lib.tl_add(1, 2)", f[2], 1, 2)
      try("ffi.typeof(closed fn)", ffi.typeof, f[2])
      try("ffi.cast(fptr, closed fn)", ffi.cast, "int (*)(int, int)", f[2])
      try("tostring(closed fn)", tostring, f[2])
    end
    try("closed lib.tl_global_int", function() return lib.tl_global_int end)
    try("closed lib.tl_global_int = 1", function() lib.tl_global_int = 1 end)
    try("closed lib.tl_add", function() return lib.tl_add end)
    try("pairs(closed lib)", function() for _ in pairs(lib) do end end)
    try("ffi.addressof(closed lib)", ffi.addressof, lib, "tl_add")
    try("ffi.dlclose(closed lib)", ffi.dlclose, lib)
    try("tostring(closed lib)", tostring, lib)
  elseif k == 8 then
    local lib = pick { ffi.C, LIB or ffi.C }
    local key = pick { "tl_add", "abs", "tl_global_int", "TL_RED", "nothing", pick(CONSTS), 1, true }
    local val = rval()
    if key == "tl_global_int" and type(val) == "function" then val = 1 end
    local old = rawget(lib, key)
    try(("%s[%s] = %s"):format(D(lib), D(key), D(val)), function() lib[key] = val end)
    rawset(lib, key, old)             -- keep the namespace's functions callable
  else
    try("tostring(lib)", tostring, pick { ffi.C, LIB or ffi.C })
    try("#lib", function() return #ffi.C end)
  end
end)

op("coroutine", 2, function()
  -- another op, inside a coroutine (callbacks then run on it)
  local o = OPS[R(1, #OPS)]
  if o.name == "coroutine" or o.name == "epoch" then return end
  local co = coroutine.create(o.f)
  local ok, e = coroutine.resume(co)
  if not ok then
    nharness = nharness + 1
    if TRACE then io.stderr:write("      (harness in coroutine) ", tostring(e), "\n") end
  end
end)

local function epoch()
  if LIB then
    pcall(LIB.tl_reset_globals)
    pcall(LIB.cbt_store, nil)
  end
  P, KEEP = {}, {}
  LOADED = {}
  collectgarbage()
  collectgarbage()
end

op("epoch", 1, epoch)

-- ---------------------------------------------------------------------
-- Findings already reported (spec/robustness_spec.lua): only with
-- FUZZ_KNOWN=1, one each, chosen at random.
-- ---------------------------------------------------------------------

local KNOWNOPS = {
  function()   -- a closed io file passed where FILE * is expected
    local f = io.open(os.tmpname(), "w")
    f:close()
    local b = ffi.new("char[8]")
    try("ffi.copy(buf, closed file, 8)", ffi.copy, b, f, 8)
  end,
  function()   -- a string into a flexible char array member
    local x = ffi.new("struct { int n; char s[]; }")
    try("flex.s = long string", function() x.s = ("A"):rep(4096) end)
  end,
  function()   -- a table into a VLA member
    local x = ffi.new("struct { int n; int s[?]; }", 2)
    local t = {}
    for i = 1, 1000 do t[i] = i end
    try("vls.s = long table", function() x.s = t end)
  end,
  function()   -- metamethods called on foreign userdata through debug
    local mt = debug.getmetatable(ffi.new("int[2]"))
    try("mt.__index(io.stdout, 1)", mt.__index, io.stdout, 1)
  end,
  function()   -- the namespace's handle replaced by another userdata
    local lib = ffi.load(LIBPATH)
    local k = next(lib)
    while type(k) ~= "userdata" do k = next(lib, k) end
    rawset(lib, k, ffi.new("char[64]"))
    try("swapped handle lib.tl_add", function() return lib.tl_add end)
  end,
  function()   -- writing into a function's code
    try("ffi.fill(ffi.C.abs, 16)", ffi.fill, ffi.C.abs, 16)
  end,
  function()   -- a NULL C++ reference used as a value
    local r = ffi.new("int &")
    try("ffi.new('int', NULL int &)", ffi.new, "int", r)
  end,
  function()   -- an array of an undeclared (incomplete) enum
    local a = ffi.new("enum fz_nosuch_enum[3]")
    try("incomplete enum array a[1]", function() return a[1] end)
  end,
  function()   -- a function of a closed library cast to a pointer and called
    if not LIB then return end
    local lib = ffi.load(LIBPATH)
    local f = lib.tl_add1
    ffi.dlclose(lib)
    local r = try("ffi.cast(fptr, closed fn)", ffi.cast, "int (*)(int)", f)
    if r[1] then try("call it", r[2], 5) end
  end,
  function()   -- ffi.* from a finalizer after the state is gone: see the spec
  end,
  function()   -- deeply nested type, initialised from a table
    local n = 100000
    local prev = fresh("fzdeep")
    ffi.cdef(("typedef struct { int v; } %s;"):format(prev))
    for _ = 1, n do
      local nxt = fresh("fzdeep")
      ffi.cdef(("typedef struct { %s a; } %s;"):format(prev, nxt))
      prev = nxt
    end
    local t = 7
    for _ = 1, n do t = { a = t } end
    try("ffi.new(deep, nested table)", ffi.new, prev, t)
  end,
  function()   -- a stale callback pointer reaching a reused closure of another type
    if not LIB then return end
    local cb = ffi.cast("int (*)(int)", function(x) return x end)
    LIB.cbt_store(cb)
    cb:free()
    for _ = 1, 20 do
      local c = ffi.cast("struct cbt_big (*)(struct cbt_big)", function(b) return b end)
      c:free()
    end
    local again = ffi.cast("struct cbt_big (*)(struct cbt_big)", function(b) return b end)
    try("cbt_call_stored(7) after reuse", LIB.cbt_call_stored, 7)
    again:free()
  end,
}
if KNOWN then op("known", 2, function() pick(KNOWNOPS)() end) end

-- ---------------------------------------------------------------------
-- Main loop
-- ---------------------------------------------------------------------

local total = 0
for _, o in ipairs(OPS) do total = total + o.w end
local function pickop()
  local x = R(1, total)
  for _, o in ipairs(OPS) do
    x = x - o.w
    if x <= 0 then return o end
  end
  return OPS[#OPS]
end

local counts = {}
local t0 = os.clock()
for i = 1, N do
  step = i
  local o = pickop()
  counts[o.name] = (counts[o.name] or 0) + 1
  local ok, e = pcall(o.f)
  if not ok then
    nharness = nharness + 1
    if TRACE then io.stderr:write("      (harness) ", tostring(e), "\n") end
  end
  if GCSTEP then
    if TRACE then io.stderr:write(("[%d] collectgarbage()\n"):format(i)) end
    collectgarbage()
  end
  if i % 250 == 0 then epoch() end
end
epoch()

local cs = {}
for _, o in ipairs(OPS) do cs[#cs + 1] = ("%s=%d"):format(o.name, counts[o.name] or 0) end
print(("fuzz seed %d: %d ops, %d calls ok, %d Lua errors, %d harness errors, %d findings, %.1f s")
      :format(SEED, N, nok, nerr, nharness, nfind, os.clock() - t0))
print("  " .. table.concat(cs, " "))
os.exit(nfind == 0 and 0 or 1)
