local ffi = require "cffi"

ffi.cdef [[
void qsort(void *base, size_t nmemb, size_t size,
           int (*compar)(const void *, const void *));

void cbt_store(int (*f)(int));
int cbt_call_stored(int x);
void *cbt_get_stored(void);
uintptr_t cbt_stored_addr(void);
int cbt_call_ii(int (*f)(int, int), int a, int b);
long long cbt_call_n(int (*f)(int), int n);
void cbt_call_void(void (*f)(void));
int cbt_twice(int (*f)(int), int x);

int8_t cbt_i8(int8_t (*f)(int8_t), int8_t x);
uint8_t cbt_u8(uint8_t (*f)(uint8_t), uint8_t x);
int16_t cbt_i16(int16_t (*f)(int16_t), int16_t x);
uint16_t cbt_u16(uint16_t (*f)(uint16_t), uint16_t x);
int32_t cbt_i32(int32_t (*f)(int32_t), int32_t x);
uint32_t cbt_u32(uint32_t (*f)(uint32_t), uint32_t x);
int64_t cbt_i64(int64_t (*f)(int64_t), int64_t x);
uint64_t cbt_u64(uint64_t (*f)(uint64_t), uint64_t x);
float cbt_flt(float (*f)(float), float x);
double cbt_dbl(double (*f)(double), double x);
bool cbt_bool(bool (*f)(bool), bool x);
void *cbt_ptr(void *(*f)(void *), void *x);
long cbt_long(long (*f)(long), long x);
char cbt_char(char (*f)(char), char x);
int cbt_i8_is(int8_t (*f)(void), int v);
int cbt_u16_is(uint16_t (*f)(void), int v);
int cbt_bool_is(bool (*f)(void), int v);
enum cbt_color { CBT_RED, CBT_GREEN = 5, CBT_BLUE };
int cbt_enum(enum cbt_color (*f)(enum cbt_color), enum cbt_color c);
int cbt_null(int (*f)(void *));
const char *cbt_str(int (*f)(const char *));
double cbt_many(double (*f)(int8_t, uint8_t, int16_t, uint16_t, int32_t,
                            uint32_t, int64_t, uint64_t, float, double,
                            float, double, float, double, float, double,
                            int, double));

struct cbt_pt { int x, y; };
struct cbt_dpt { double x, y; };
struct cbt_mix { char c; float f; short s; };
struct cbt_big { int64_t a, b, c, d; };
struct cbt_nest { struct cbt_pt p; double w; };
struct cbt_arr { float v[3]; };
struct cbt_bits { unsigned a : 3, b : 5; int c; };
union cbt_u { int i; float f; };
struct cbt_pt cbt_pt(struct cbt_pt (*f)(struct cbt_pt), int x, int y);
struct cbt_dpt cbt_dpt(struct cbt_dpt (*f)(struct cbt_dpt), double x, double y);
struct cbt_mix cbt_mix(struct cbt_mix (*f)(struct cbt_mix, int), char c,
                       float fl, short s);
struct cbt_big cbt_big(struct cbt_big (*f)(struct cbt_big));
double cbt_nest(double (*f)(struct cbt_nest));
float cbt_arr(float (*f)(struct cbt_arr));
int cbt_bits(int (*f)(struct cbt_bits));
int cbt_union(union cbt_u (*f)(union cbt_u));
long double cbt_ldbl(long double (*f)(long double), long double x);
complex double cbt_cdbl(complex double (*f)(complex double), double re, double im);
complex float cbt_cflt(complex float (*f)(complex float), float re, float im);

struct cbt_pk { char c; int i; short s; } __attribute__((packed));
struct cbt_pkd { char c; double d; } __attribute__((packed));
struct cbt_pkbig { char c; int64_t a, b; } __attribute__((packed));
struct cbt_al { char c; int x __attribute__((aligned(8))); };
struct cbt_pk cbt_pk(struct cbt_pk (*f)(struct cbt_pk, int), char c, int i,
                     short s);
int cbt_pk_check(struct cbt_pk (*f)(void), char c, int i, short s);
double cbt_pkd(double (*f)(int, struct cbt_pkd, double, int), char c, double d);
struct cbt_pkbig cbt_pkbig(struct cbt_pkbig (*f)(struct cbt_pkbig));
struct cbt_al cbt_al(struct cbt_al (*f)(struct cbt_al), char c, int x);
struct cbt_opaque;
]]

local lib = ffi.load("./spec/lib/libcffitest.so")

local function intcmp(a, b)
  local x = ffi.cast("const int *", a)[0]
  local y = ffi.cast("const int *", b)[0]
  return x < y and -1 or (x > y and 1 or 0)
end

-- Fill arr[0..n-1] with a fixed pseudo-random sequence; returns its sum.
local function scramble(arr, n, seed)
  local s, sum = seed, 0
  for i = 0, n - 1 do
    s = (s * 1103515245 + 12345) % 2147483648
    arr[i] = s % 100000 - 50000
    sum = sum + arr[i]
  end
  return sum
end

local function check_sorted(arr, n, sum)
  local total = arr[0]
  for i = 1, n - 1 do
    assert.is_true(arr[i - 1] <= arr[i])
    total = total + arr[i]
  end
  assert.equal(sum, total)
end

-- Errors with no position that carry a callback traceback: busted's
-- error_matches would strip everything up to the traceback's first "file:N:".
local function fails_with(fn, text)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  err = tostring(err)
  assert.is_truthy(err:find(text, 1, true), ("%q not in %q"):format(text, err))
end

describe("callbacks", function()

  describe("explicit callbacks", function()
    it("ffi.cast of a Lua function gives a pointer C can call", function()
      local cb = ffi.cast("int (*)(int, int)", function(a, b) return a * 10 + b end)
      assert.equal(12, lib.cbt_call_ii(cb, 1, 2))
      assert.equal(93, lib.cbt_call_ii(cb, 9, 3))
      cb:free()
    end)

    it("ffi.new of a function pointer type with a function makes one", function()
      local cb = ffi.new("int (*)(int, int)", function(a, b) return a - b end)
      assert.equal(-1, lib.cbt_call_ii(cb, 1, 2))
      cb:free()
    end)

    it("can be called from Lua as well", function()
      local cb = ffi.cast("int (*)(int, int)", function(a, b) return a + b end)
      assert.equal(7, cb(3, 4))
      cb:free()
    end)

    it("sorts 10 000 integers with ffi.C.qsort", function()
      local n = 10000
      local arr = ffi.new("int[?]", n)
      local sum = scramble(arr, n, 42)
      local calls = 0
      local cmp = ffi.cast("int (*)(const void *, const void *)", function(a, b)
        calls = calls + 1
        return intcmp(a, b)
      end)
      ffi.C.qsort(arr, n, ffi.sizeof("int"), cmp)
      cmp:free()
      check_sorted(arr, n, sum)
      assert.is_true(calls >= n - 1)
    end)

    it(":set replaces the Lua function", function()
      local cb = ffi.cast("int (*)(int)", function(x) return x + 1 end)
      lib.cbt_store(cb)
      assert.equal(2, lib.cbt_call_stored(1))
      cb:set(function(x) return x * 100 end)
      assert.equal(300, lib.cbt_call_stored(3))
      cb:free()
      lib.cbt_store(nil)
    end)

    it(":set needs a function", function()
      local cb = ffi.cast("int (*)(int)", function(x) return x end)
      assert.error_matches(function() cb:set(42) end, "function expected", nil, true)
      cb:free()
    end)

    it("a freed callback called by C is an error in Lua, not a crash", function()
      local cb = ffi.cast("int (*)(int)", function(x) return x + 1 end)
      lib.cbt_store(cb)
      assert.equal(6, lib.cbt_call_stored(5))
      cb:free()
      assert.error_matches(function() lib.cbt_call_stored(5) end,
                           "called a freed callback", nil, true)
      -- still an error the second time, and the program goes on
      local ok, err = pcall(lib.cbt_call_stored, 5)
      assert.is_false(ok)
      assert.matches("called a freed callback", err, 1, true)
      assert.equal(3, lib.cbt_call_ii(function(a, b) return a + b end, 1, 2))
      lib.cbt_store(nil)
    end)

    it("free twice is an error", function()
      local cb = ffi.cast("int (*)(int)", function(x) return x end)
      cb:free()
      assert.error_matches(function() cb:free() end, "callback already freed", nil, true)
    end)

    it(":set after :free is an error", function()
      local cb = ffi.cast("int (*)(int)", function(x) return x end)
      cb:free()
      assert.error_matches(function() cb:set(function() return 1 end) end,
                           "callback already freed", nil, true)
    end)

    it("a freed closure is reused only after a quarantine", function()
      local old = ffi.cast("int (*)(int)", function(x) return x end)
      lib.cbt_store(old)
      old:free()
      local keep = {}
      for i = 1, 8 do
        local cb = ffi.cast("int (*)(int)", function(x) return x + i end)
        keep[i] = cb
      end
      assert.error_matches(function() lib.cbt_call_stored(1) end,
                           "called a freed callback", nil, true)
      for i = 1, 8 do keep[i]:free() end
      lib.cbt_store(nil)
    end)

    it("a callback may free itself while it runs", function()
      local cb
      cb = ffi.cast("int (*)(int)", function(x) cb:free(); return x * 2 end)
      lib.cbt_store(cb)
      assert.equal(8, lib.cbt_call_stored(4))
      assert.error_matches(function() lib.cbt_call_stored(4) end,
                           "called a freed callback", nil, true)
      lib.cbt_store(nil)
    end)

    it("has no small limit on live callbacks", function()
      local cbs = {}
      for i = 1, 3000 do
        cbs[i] = ffi.cast("int (*)(int, int)", function(a, b) return a + b + i end)
      end
      assert.equal(3003, lib.cbt_call_ii(cbs[3000], 1, 2))
      assert.equal(4, lib.cbt_call_ii(cbs[1], 1, 2))
      for i = 1, 3000 do cbs[i]:free() end
    end)

    it("reused closures call their new function, the others their own", function()
      local cbs = {}
      for i = 1, 100 do
        cbs[i] = ffi.cast("int (*)(int, int)", function(a, b) return a + b + i end)
      end
      for i = 1, 100, 2 do cbs[i]:free() end
      for i = 1, 100, 2 do
        cbs[i] = ffi.cast("int (*)(int, int)", function(a, b) return a * b + 1000 * i end)
      end
      collectgarbage()
      for i = 1, 100 do
        local want = i % 2 == 1 and 2 * 3 + 1000 * i or 2 + 3 + i
        assert.equal(want, lib.cbt_call_ii(cbs[i], 2, 3))
      end
      for i = 1, 100 do cbs[i]:free() end
    end)

    it("refuses variadic function types", function()
      assert.error_matches(function()
        ffi.cast("int (*)(int, ...)", function() return 0 end)
      end, "cannot create a callback of variadic type", nil, true)
    end)
  end)

  describe("errors inside callbacks", function()
    it("propagate with their message after the C call returns", function()
      local ok, err = pcall(lib.cbt_call_ii, function() error("boom") end, 1, 2)
      assert.is_false(ok)
      assert.matches("callback_spec.lua:%d+: boom", err)
      assert.matches("stack traceback", err, 1, true)
      -- the program continues normally
      assert.equal(3, lib.cbt_call_ii(function(a, b) return a + b end, 1, 2))
    end)

    it("propagate out of qsort and leave the state usable", function()
      local arr = ffi.new("int[100]")
      scramble(arr, 100, 7)
      local calls = 0
      assert.error_matches(function()
        ffi.C.qsort(arr, 100, 4, function(a, b)
          calls = calls + 1
          if calls == 10 then error("comparator failed") end
          return intcmp(a, b)
        end)
      end, "comparator failed", nil, true)
      assert.equal(10, calls)  -- no Lua ran after the error
      local sum = scramble(arr, 100, 7)
      ffi.C.qsort(arr, 100, 4, intcmp)
      check_sorted(arr, 100, sum)
    end)

    it("stop a C loop's later callbacks from running Lua", function()
      local seen = {}
      local ok, err = pcall(lib.cbt_call_n, function(i)
        seen[#seen + 1] = i
        if i == 3 then error("stop at 3") end
        return i
      end, 10)
      assert.is_false(ok)
      assert.matches("stop at 3", err, 1, true)
      assert.same({ 0, 1, 2, 3 }, seen)
      assert.equal(45, lib.cbt_call_n(function(i) return i end, 10))
    end)

    it("keep non-string error values as they are", function()
      local e = { code = 42 }
      local ok, err = pcall(lib.cbt_call_ii, function() error(e) end, 1, 2)
      assert.is_false(ok)
      assert.equal(e, err)
    end)

    it("include conversion errors of the result", function()
      fails_with(function()
        lib.cbt_call_ii(function() return "x" end, 1, 2)
      end, "cannot convert 'string' to 'int'")
      fails_with(function()
        lib.cbt_call_ii(function() end, 1, 2)
      end, "cannot convert 'nil' to 'int'")
    end)

    it("propagate through nested C calls and callbacks", function()
      local ok, err = pcall(lib.cbt_call_ii, function(a, b)
        return lib.cbt_call_ii(function() error("inner") end, a, b)
      end, 1, 2)
      assert.is_false(ok)
      assert.matches("inner", err, 1, true)
      -- caught inside the outer callback, the outer call goes on
      local r = lib.cbt_call_ii(function(a, b)
        local ok2 = pcall(lib.cbt_call_ii, function() error("inner") end, a, b)
        assert(not ok2)
        return a + b + 100
      end, 1, 2)
      assert.equal(103, r)
    end)

    it("work with a test-library loop through an explicit callback", function()
      local cb = ffi.cast("int (*)(int)", function(i)
        if i == 5 then error("five") end
        return 1
      end)
      assert.error_matches(function() lib.cbt_call_n(cb, 100) end, "five", nil, true)
      assert.equal(5, lib.cbt_call_n(cb, 5))
      cb:free()
    end)
  end)

  describe("implicit callbacks", function()
    it("turn a Lua function argument into a callback", function()
      assert.equal(21, lib.cbt_call_ii(function(a, b) return a * b end, 3, 7))
    end)

    it("sort with a plain Lua comparator", function()
      local arr = ffi.new("int[1000]")
      local sum = scramble(arr, 1000, 3)
      ffi.C.qsort(arr, 1000, 4, intcmp)
      check_sorted(arr, 1000, sum)
    end)

    it("reuse the closure for the same function", function()
      local f = function(x) return x end
      local g = function(x) return x end
      lib.cbt_store(f)
      local a = lib.cbt_stored_addr()
      lib.cbt_store(f)
      assert.equal(a, lib.cbt_stored_addr())
      lib.cbt_store(g)
      assert.not_equal(a, lib.cbt_stored_addr())
      lib.cbt_store(nil)
    end)

    it("live as long as the function", function()
      local f = function(x) return x + 1 end
      lib.cbt_store(f)
      collectgarbage()
      collectgarbage()
      assert.equal(6, lib.cbt_call_stored(5))
      assert.equal(1, #{ f })
      lib.cbt_store(nil)
    end)

    it("are freed when the function is collected", function()
      local function store_fresh()
        lib.cbt_store(function(x) return x + 1 end)
      end
      store_fresh()
      collectgarbage()
      collectgarbage()
      assert.error_matches(function() lib.cbt_call_stored(5) end,
                           "called a freed callback", nil, true)
      lib.cbt_store(nil)
    end)

    it("do not grow memory when fresh closures are passed in a loop", function()
      local arr = ffi.new("int[16]")
      local function run(k)
        for i = 0, 15 do arr[i] = (i * 7 + k) % 16 end
        ffi.C.qsort(arr, 16, 4, function(a, b)
          return ffi.cast("const int *", a)[0] - ffi.cast("const int *", b)[0]
        end)
        assert.equal(0, arr[0])
        assert.equal(15, arr[15])
      end
      for k = 1, 300 do run(k) end
      collectgarbage()
      collectgarbage()
      local before = collectgarbage("count")
      for k = 1, 5000 do run(k) end
      collectgarbage()
      collectgarbage()
      local after = collectgarbage("count")
      assert.is_true(after - before < 200, ("grew %.1f KB"):format(after - before))
    end)

    it("reuse a bounded set of closures", function()
      -- freed closures are reused (FIFO), so the addresses seen are bounded
      -- by the closures that ever existed, not by the functions passed
      local seen, distinct = {}, 0
      for i = 1, 10000 do
        lib.cbt_store(function(x) return x + i end)
        local a = lib.cbt_stored_addr()
        if not seen[a] then
          seen[a] = true
          distinct = distinct + 1
        end
        if i % 100 == 0 then collectgarbage() end
      end
      lib.cbt_store(nil)
      assert.is_true(distinct < 5000, distinct .. " closures")
    end)

    it("keep one closure per function type", function()
      local f = function(a, b) return (b or a) + a end
      assert.equal(5, lib.cbt_call_ii(f, 2, 3))
      assert.equal(8, lib.cbt_twice(f, 2))
      assert.equal(7, lib.cbt_call_ii(f, 3, 4))
      lib.cbt_store(f)
      assert.equal(18, lib.cbt_call_stored(9))
      lib.cbt_store(nil)
    end)
  end)

  describe("threads", function()
    it("run on the coroutine making the C call", function()
      local co = coroutine.create(function()
        local on
        local r = lib.cbt_call_ii(function(a, b)
          on = coroutine.running()
          return a + b
        end, 2, 3)
        coroutine.yield(r, on)
        r = lib.cbt_call_ii(function(a, b)
          on = coroutine.running()
          return a * b
        end, 2, 3)
        return r, on
      end)
      local ok, r, on = coroutine.resume(co)
      assert.is_true(ok)
      assert.equal(5, r)
      assert.equal(co, on)
      ok, r, on = coroutine.resume(co)
      assert.is_true(ok)
      assert.equal(6, r)
      assert.equal(co, on)
    end)

    it("run on the calling thread outside coroutines", function()
      local main = coroutine.running()
      local on
      lib.cbt_call_ii(function() on = coroutine.running() return 0 end, 0, 0)
      assert.equal(main, on)
    end)

    it("interleave between coroutines", function()
      local function worker(k)
        return coroutine.wrap(function()
          for i = 1, 3 do
            local r = lib.cbt_call_ii(function(a, b) return a + b end, k, i)
            coroutine.yield(r)
          end
        end)
      end
      local w1, w2 = worker(10), worker(20)
      assert.equal(11, w1())
      assert.equal(21, w2())
      assert.equal(12, w1())
      assert.equal(22, w2())
    end)

    it("cannot yield across a callback: an error, not a crash", function()
      local co = coroutine.create(function()
        return lib.cbt_call_ii(function() coroutine.yield(1) return 0 end, 1, 2)
      end)
      local ok, err = coroutine.resume(co)
      assert.is_false(ok)
      assert.matches("attempt to yield across a C-call boundary", err, 1, true)
      assert.equal("dead", coroutine.status(co))
      -- and outside coroutines
      fails_with(function()
        lib.cbt_call_ii(function() coroutine.yield(1) return 0 end, 1, 2)
      end, "attempt to yield")
      assert.equal(3, lib.cbt_call_ii(function(a, b) return a + b end, 1, 2))
    end)

    it("nest: C calls Lua calls C calls Lua", function()
      local r = lib.cbt_twice(function(x)
        return lib.cbt_call_ii(function(a, b) return a + b end, x, 1)
      end, 10)
      assert.equal(12, r)
    end)
  end)

  describe("argument and return types", function()
    it("pass every integer width", function()
      assert.equal(-6, lib.cbt_i8(function(x) assert.equal(-5, x) return x - 1 end, -5))
      assert.equal(-128, lib.cbt_i8(function(x) return x end, -128))
      assert.equal(255, lib.cbt_u8(function(x) assert.equal(250, x) return x + 5 end, 250))
      assert.equal(-32768, lib.cbt_i16(function(x) return x end, -32768))
      assert.equal(65535, lib.cbt_u16(function(x) return x end, 65535))
      assert.equal(-2147483648, lib.cbt_i32(function(x) return x end, -2147483648))
      assert.equal(4294967295, lib.cbt_u32(function(x) return x end, 4294967295))
      assert.equal(math.mininteger, lib.cbt_i64(function(x) return x end, math.mininteger))
      assert.equal(-1, lib.cbt_u64(function(x) assert.equal(-1, x) return x end, -1))
      assert.equal(-3000000000, lib.cbt_long(function(x) return x * 3 end, -1000000000))
      assert.equal(66, lib.cbt_char(function(x) assert.equal(65, x) return x + 1 end, 65))
    end)

    it("widen narrow results the way C reads them", function()
      assert.equal(1, lib.cbt_i8_is(function() return -1 end, -1))
      assert.equal(1, lib.cbt_u16_is(function() return 65535 end, 65535))
      assert.equal(1, lib.cbt_bool_is(function() return true end, 1))
      assert.equal(1, lib.cbt_bool_is(function() return false end, 0))
    end)

    -- Scalar results take a shortcut; other Lua values still convert by
    -- cconv's rules (under a protected call: a bad one is an error).
    it("convert results the shortcut leaves by the usual rules", function()
      assert.equal(3, lib.cbt_call_ii(function() return 3.7 end, 1, 2))
      assert.equal(-3, lib.cbt_call_ii(function() return -3.7 end, 1, 2))
      assert.equal(1, lib.cbt_call_ii(function() return true end, 1, 2))
      assert.equal(7, lib.cbt_call_ii(function() return ffi.new("int64_t", 7) end, 1, 2))
      assert.equal(7, lib.cbt_i64(function() return ffi.new("int8_t", 7) end, 0))
      assert.equal(6, lib.cbt_enum(function() return "CBT_BLUE" end, 0))
      assert.equal(5.0, lib.cbt_dbl(function() return 5 end, 0))
      assert.equal(2.5, lib.cbt_dbl(function() return ffi.new("float", 2.5) end, 0))
      assert.equal(1, lib.cbt_bool_is(function() return 2 end, 1))
      local box = ffi.new("int[1]", 5)
      local r = lib.cbt_ptr(function() return box end, nil)
      assert.equal(5, ffi.cast("int *", r)[0])
      assert.is_nil(lib.cbt_ptr(function() return nil end, box))
      fails_with(function()
        lib.cbt_dbl(function() return "1.5" end, 0)
      end, "cannot convert 'string' to 'double'")
      fails_with(function()
        lib.cbt_i64(function() return {} end, 0)
      end, "cannot convert 'table' to 'int64_t'")
    end)

    it("pass floats, doubles and booleans", function()
      assert.equal(3.0, lib.cbt_flt(function(x) assert.equal(1.5, x) return x * 2 end, 1.5))
      assert.equal(0.1 + 1, lib.cbt_dbl(function(x) return x + 1 end, 0.1))
      assert.equal(false, lib.cbt_bool(function(x) assert.equal(true, x) return not x end, true))
    end)

    it("pass long double and complex numbers", function()
      assert.equal(2.5, lib.cbt_ldbl(function(x) return x * 2 end, 1.25))
      local z = lib.cbt_cdbl(function(c)
        return ffi.new("complex double", c.im, c.re)
      end, 1.5, 2.5)
      assert.same({ 2.5, 1.5 }, { z.re, z.im })
      z = lib.cbt_cflt(function(c)
        return ffi.new("complex float", c.im * 2, c.re * 2)
      end, 1.5, 2.5)
      assert.same({ 5.0, 3.0 }, { z.re, z.im })
    end)

    it("pass enums", function()
      assert.equal(6, lib.cbt_enum(function(c) assert.equal(5, c) return c + 1 end, "CBT_GREEN"))
    end)

    it("pass pointers; NULL arrives as nil", function()
      local box = ffi.new("int[1]", 77)
      local r = lib.cbt_ptr(function(p) return p end, box)
      assert.equal(77, ffi.cast("int *", r)[0])
      assert.equal(1, lib.cbt_null(function(p) return p == nil and 1 or 0 end))
      assert.equal("ok", ffi.string(lib.cbt_str(function(s) return #ffi.string(s) end)))
    end)

    it("pass many arguments, some on the stack", function()
      local r = lib.cbt_many(function(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, s)
        assert.same({ -1, 255, -300, 65000, -70000, 4000000000, -5000000000, 10000000000 },
                    { a, b, c, d, e, f, g, h })
        assert.same({ 1.5, 2.25, 3.5, 4.25, 5.5, 6.25, 7.5, 8.25 }, { i, j, k, l, m, n, o, p })
        assert.equal(42, q)
        assert.equal(9.75, s)
        return a + q + s
      end)
      assert.equal(50.75, r)
    end)

    it("return void", function()
      local called = false
      lib.cbt_call_void(function() called = true end)
      assert.is_true(called)
    end)

    it("pass and return structs by value", function()
      local r = lib.cbt_pt(function(p)
        return ffi.new("struct cbt_pt", p.x + 1, p.y * 2)
      end, 3, 4)
      assert.equal(4, r.x)
      assert.equal(8, r.y)
      local d = lib.cbt_dpt(function(p)
        return ffi.new("struct cbt_dpt", p.y, p.x)
      end, 1.5, 2.5)
      assert.equal(2.5, d.x)
      assert.equal(1.5, d.y)
      local m = lib.cbt_mix(function(v, k)
        assert.equal(7, k)
        return ffi.new("struct cbt_mix", v.c + 1, v.f * 2, v.s - 1)
      end, 65, 0.5, 1000)
      assert.equal(66, m.c)
      assert.equal(1.0, m.f)
      assert.equal(999, m.s)
      local b = lib.cbt_big(function(v)
        return ffi.new("struct cbt_big", v.d, v.c, v.b, v.a)
      end)
      assert.same({ -4, 3000000000, -2, 1 }, { b.a, b.b, b.c, b.d })
    end)

    it("pass nested structs, arrays in structs, bitfields, unions", function()
      assert.equal(7.5, lib.cbt_nest(function(n) return n.p.x + n.p.y + n.w end))
      assert.equal(7.5, lib.cbt_arr(function(a) return a.v[0] + a.v[1] + a.v[2] end))
      assert.equal(13, lib.cbt_bits(function(b) return b.a + b.b + b.c end))
      assert.equal(42, lib.cbt_union(function(u)
        return ffi.new("union cbt_u", u.i + 1)
      end))
    end)

    it("pass and return packed structs by value", function()
      assert.equal(7, ffi.sizeof("struct cbt_pk"))
      local r = lib.cbt_pk(function(p, k)
        assert.equal(7, k)
        assert.same({ 65, -123456, -300 }, { p.c, p.i, p.s })
        return ffi.new("struct cbt_pk", p.c + 1, p.i * 2, p.s - 1)
      end, 65, -123456, -300)
      assert.same({ 66, -246912, -301 }, { r.c, r.i, r.s })
      assert.equal(1, lib.cbt_pk_check(function()
        return ffi.new("struct cbt_pk", 9, 0x12345678, 4242)
      end, 9, 0x12345678, 4242))
      assert.equal(1, lib.cbt_pk_check(function()
        return { 9, 0x12345678, 4242 }
      end, 9, 0x12345678, 4242))
      assert.equal(0, lib.cbt_pk_check(function()
        return ffi.new("struct cbt_pk", 9, 0x12345678, 4243)
      end, 9, 0x12345678, 4242))
    end)

    it("pass packed structs among register arguments", function()
      assert.equal(9, ffi.sizeof("struct cbt_pkd"))
      assert.equal(101.75, lib.cbt_pkd(function(a, p, x, b)
        assert.same({ 1, 66, 2.5, 0.25, 2 }, { a, p.c, p.d, x, b })
        return a + p.c + p.d + x + b * 16
      end, 66, 2.5))
    end)

    it("pass and return a large packed struct by value", function()
      assert.equal(17, ffi.sizeof("struct cbt_pkbig"))
      local r = lib.cbt_pkbig(function(p)
        assert.same({ 120, -5000000000, 6000000000 }, { p.c, p.a, p.b })
        return ffi.new("struct cbt_pkbig", p.c + 1, p.b, p.a)
      end)
      assert.same({ 121, 6000000000, -5000000000 }, { r.c, r.a, r.b })
    end)

    it("pass and return structs with over-aligned members", function()
      assert.equal(8, ffi.offsetof("struct cbt_al", "x"))
      local r = lib.cbt_al(function(a)
        assert.same({ 3, -77 }, { a.c, a.x })
        return ffi.new("struct cbt_al", a.c * 2, a.x - 1)
      end, 3, -77)
      assert.same({ 6, -78 }, { r.c, r.x })
    end)

    it("a packed struct callback works through ffi.cast too", function()
      local cb = ffi.cast("struct cbt_pk (*)(struct cbt_pk, int)", function(p, k)
        return ffi.new("struct cbt_pk", p.c, p.i + k, p.s)
      end)
      local r = lib.cbt_pk(cb, 1, 2, 3)
      assert.same({ 1, 9, 3 }, { r.c, r.i, r.s })
      cb:free()
    end)

    it("refuses types that cannot be passed by value", function()
      assert.error_matches(function()
        ffi.cast("int (*)(struct cbt_opaque)", function() return 0 end)
      end, "cannot create a callback of type 'int (struct cbt_opaque)': "
        .. "cannot pass or return 'struct cbt_opaque' by value (incomplete type)",
        nil, true)
      assert.error_matches(function()
        ffi.cast("struct cbt_opaque (*)(void)", function() return 0 end)
      end, "cannot pass or return 'struct cbt_opaque' by value", nil, true)
    end)
  end)
end)
