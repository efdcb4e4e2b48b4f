-- ffi.metatype, ffi.gc and object lifetime.
local ffi = require "cffi"
local support = require "support"

local LIBPATH = "./spec/lib/libcffitest.so"

ffi.cdef [[
typedef struct tl_counter tl_counter;
tl_counter *tl_counter_new(int start);
void tl_counter_incr(tl_counter *c, int by);
int tl_counter_get(const tl_counter *c);
void tl_counter_set(tl_counter *c, int v);
void tl_counter_free(tl_counter *c);
int tl_counter_live_count(void);
extern int tl_counters_live;
extern int tl_counters_freed;
extern int tl_counters_bad_free;
extern int tl_free_calls;
void *tl_malloc(size_t n);
void tl_free(void *p);
void *malloc(size_t n);
void free(void *p);

struct mt_vec { double x, y; };
struct mt_idxtab { int x; };
struct mt_idxfn { int x; };
struct mt_noidx { int x; };
struct mt_newidx { int x; };
struct mt_arith { int v; };
struct mt_bits { int v; };
struct mt_cmp { int v; };
struct mt_len { int n; };
struct mt_concat { int v; };
struct mt_call { int base; };
struct mt_str { int v; };
struct mt_ctor { int a, b; };
struct mt_gc { int id; };
struct mt_gcfields { int id; double d; };
struct mt_close { int id; };
struct mt_closegc { int id; };
struct mt_twice { int x; };
struct mt_ptr { int x; };
struct mt_static { int x, y; };
struct mt_arr { int x; };
struct mt_union_holder { int a[4]; };
union mt_union { int i; float f; };
struct mt_nonclose { int x; };
struct mt_newidxtab { int x; };
struct mt_inherit { int x; };
struct mt_byctype { int x; };
struct mt_ltnum { int v; };
struct mt_gcreplace { int id; };
typedef struct tl_money { long long cents; } tl_money;
tl_money tl_money_make(long long cents);
tl_money tl_money_add(tl_money a, tl_money b);
int tl_money_cmp(tl_money a, tl_money b);
typedef struct tl_handle { int id; } tl_handle;
tl_handle tl_handle_make(int id);
struct mt_gcowned { int id; };
struct mt_gcouter { int a; struct mt_gcowned inner; };
struct mt_gcnil { int id; };
]]

local lib = ffi.load(LIBPATH)

local raises, run_lua = support.raises, support.run_lua

local function fullgc()
  collectgarbage()
  collectgarbage()
end

local function count(s, sub)
  local n, i = 0, 1
  while true do
    local j = s:find(sub, i, true)
    if not j then return n end
    n, i = n + 1, j + #sub
  end
end

describe("ffi.metatype", function()
  local Vec = ffi.metatype("struct mt_vec", {
    __index = {
      len2 = function(v) return v.x * v.x + v.y * v.y end,
      scaled = function(v, k) return ffi.new("struct mt_vec", v.x * k, v.y * k) end,
    },
  })

  it("returns the ctype", function()
    assert.equal(ffi.typeof("struct mt_vec"), Vec)
  end)

  it("the ctype constructs objects", function()
    local v = Vec(3, 4)
    assert.equal(3, v.x)
    assert.equal(4, v.y)
    assert.is_true(ffi.istype("struct mt_vec", v))
  end)

  it("methods from an __index table: obj:method()", function()
    local v = Vec(3, 4)
    assert.equal(25, v:len2())
    local w = v:scaled(2)
    assert.equal(6, w.x)
    assert.equal(100, w:len2())
  end)

  it("objects made by ffi.new get the methods", function()
    assert.equal(25, ffi.new("struct mt_vec", 3, 4):len2())
  end)

  it("an __index table gives nil for a missing key", function()
    assert.is_nil(Vec(1, 2).nothing)
  end)

  it("fields take precedence over __index", function()
    local T = ffi.metatype("struct mt_idxtab", { __index = { x = "method" } })
    assert.equal(5, T(5).x)
  end)

  it("an __index function gets the object and the key", function()
    local seen
    local T = ffi.metatype("struct mt_idxfn", {
      __index = function(o, k) seen = o; return "key:" .. k end,
    })
    local o = T(1)
    assert.equal("key:foo", o.foo)
    assert.equal(1, seen.x)
    assert.equal(1, o.x)
  end)

  it("without __index a missing member is an error", function()
    local T = ffi.metatype("struct mt_noidx", { __tostring = function() return "" end })
    raises(function() return T(1).nope end,
      "'struct mt_noidx' has no member named 'nope'")
  end)

  it("without __newindex assigning a missing member is an error", function()
    local T = ffi.typeof("struct mt_noidx")
    raises(function() T(1).nope = 1 end,
      "'struct mt_noidx' has no member named 'nope'")
  end)

  it("__newindex gets keys that are not fields", function()
    local store = {}
    local T = ffi.metatype("struct mt_newidx", {
      __newindex = function(o, k, v) store[k] = v end,
    })
    local o = T(1)
    o.extra = 42
    o.x = 7
    assert.equal(42, store.extra)
    assert.equal(7, o.x)
    assert.is_nil(store.x)
  end)

  it("__newindex as a table stores keys that are not fields", function()
    local store = {}
    local T = ffi.metatype("struct mt_newidxtab", { __newindex = store })
    local o = T(1)
    o.extra = "x"
    o.x = 2
    assert.equal("x", store.extra)
    assert.equal(2, o.x)
  end)

  it("an __index table can inherit through its own metatable", function()
    local base = { hello = function(o) return "hello " .. o.x end }
    local methods = setmetatable({}, { __index = base })
    local T = ffi.metatype("struct mt_inherit", { __index = methods })
    assert.equal("hello 3", T(3):hello())
  end)

  it("accepts a ctype object", function()
    local ct = ffi.typeof("struct mt_byctype")
    local T = ffi.metatype(ct, { __index = { one = function() return 1 end } })
    assert.equal(ct, T)
    assert.equal(1, T(0):one())
  end)

  it("works on an anonymous struct type string", function()
    local T = ffi.metatype("struct { int a, b; }", {
      __index = { sum = function(o) return o.a + o.b end },
    })
    assert.equal(7, T(3, 4):sum())
  end)

  it("arithmetic metamethods", function()
    local T
    local function v(o) return type(o) == "number" and o or o.v end
    T = ffi.metatype("struct mt_arith", {
      __add = function(a, b) return T(v(a) + v(b)) end,
      __sub = function(a, b) return T(v(a) - v(b)) end,
      __mul = function(a, b) return T(v(a) * v(b)) end,
      __div = function(a, b) return v(a) / v(b) end,
      __mod = function(a, b) return T(v(a) % v(b)) end,
      __pow = function(a, b) return v(a) ^ v(b) end,
      __unm = function(a) return T(-a.v) end,
      __idiv = function(a, b) return T(v(a) // v(b)) end,
    })
    local a, b = T(7), T(2)
    assert.equal(9, (a + b).v)
    assert.equal(5, (a - b).v)
    assert.equal(14, (a * b).v)
    assert.equal(3.5, a / b)
    assert.equal(1, (a % b).v)
    assert.equal(49, a ^ b)
    assert.equal(-7, (-a).v)
    assert.equal(3, (a // b).v)
  end)

  it("arithmetic with a number on either side", function()
    local T = ffi.typeof("struct mt_arith")
    local a = T(7)
    assert.equal(8, (a + 1).v)
    assert.equal(8, (1 + a).v)
    assert.equal(-4, (3 - a).v)
  end)

  it("bitwise metamethods (Lua 5.4)", function()
    local T
    local function v(o) return type(o) == "number" and o or o.v end
    T = ffi.metatype("struct mt_bits", {
      __band = function(a, b) return v(a) & v(b) end,
      __bor = function(a, b) return v(a) | v(b) end,
      __bxor = function(a, b) return v(a) ~ v(b) end,
      __shl = function(a, b) return v(a) << v(b) end,
      __shr = function(a, b) return v(a) >> v(b) end,
      __bnot = function(a) return ~a.v end,
    })
    local a = T(12)
    assert.equal(4, a & 6)
    assert.equal(14, a | 6)
    assert.equal(10, a ~ 6)
    assert.equal(48, a << 2)
    assert.equal(3, a >> 2)
    assert.equal(-13, ~a)
  end)

  it("comparison metamethods", function()
    local T = ffi.metatype("struct mt_cmp", {
      __eq = function(a, b) return a.v == b.v end,
      __lt = function(a, b) return a.v < b.v end,
      __le = function(a, b) return a.v <= b.v end,
    })
    local a, b, c = T(1), T(2), T(1)
    assert.is_true(a == c)
    assert.is_false(a == b)
    assert.is_true(a ~= b)
    assert.is_true(a < b)
    assert.is_false(b < a)
    assert.is_true(a <= c)
    assert.is_true(b > a)
    assert.is_true(b >= a)
    assert.is_false(b <= a)
  end)

  it("__lt and __le against a number", function()
    local T = ffi.metatype("struct mt_ltnum", {
      __lt = function(a, b)
        local x = type(a) == "number" and a or a.v
        local y = type(b) == "number" and b or b.v
        return x < y
      end,
      __le = function(a, b)
        local x = type(a) == "number" and a or a.v
        local y = type(b) == "number" and b or b.v
        return x <= y
      end,
    })
    assert.is_true(T(1) < 5)
    assert.is_false(5 < T(1))
    assert.is_true(T(5) <= 5)
    assert.is_true(2 <= T(5))
  end)

  it("__len", function()
    local T = ffi.metatype("struct mt_len", { __len = function(o) return o.n * 2 end })
    assert.equal(10, #T(5))
  end)

  it("__concat on either side", function()
    local T = ffi.metatype("struct mt_concat", {
      __concat = function(a, b)
        local function s(x) return type(x) == "string" and x or ("<" .. x.v .. ">") end
        return s(a) .. s(b)
      end,
    })
    assert.equal("<1>!", T(1) .. "!")
    assert.equal("!<1>", "!" .. T(1))
    assert.equal("<1><2>", T(1) .. T(2))
  end)

  it("__call gets the object and the arguments", function()
    local T = ffi.metatype("struct mt_call", {
      __call = function(o, a, b) return o.base + a + b, "second" end,
    })
    local r1, r2 = T(100)(1, 2)
    assert.equal(103, r1)
    assert.equal("second", r2)
  end)

  it("__tostring", function()
    local T = ffi.metatype("struct mt_str", {
      __tostring = function(o) return "mt_str(" .. o.v .. ")" end,
    })
    assert.equal("mt_str(3)", tostring(T(3)))
  end)

  it("__new is the constructor used by the ctype", function()
    local seen
    local T
    T = ffi.metatype("struct mt_ctor", {
      __new = function(ct, a, b)
        seen = ct
        return ffi.new(ct, a * 10, b * 10)
      end,
    })
    local o = T(1, 2)
    assert.equal(10, o.a)
    assert.equal(20, o.b)
    assert.equal(T, seen)
  end)

  it("ffi.new does not call __new", function()
    local T = ffi.typeof("struct mt_ctor")
    local o = ffi.new(T, 1, 2)
    assert.equal(1, o.a)
    assert.equal(2, o.b)
  end)

  it("the ctype object indexes the __index table (static methods)", function()
    local T
    T = ffi.metatype("struct mt_static", {
      __index = { from_array = function(t) return T(t[1], t[2]) end },
    })
    local o = T.from_array({ 3, 4 })
    assert.equal(3, o.x)
    assert.equal(4, o.y)
  end)

  it("a pointer to the struct gets the struct's methods", function()
    local T = ffi.metatype("struct mt_ptr", {
      __index = { get = function(o) return o.x end },
      __tostring = function(o) return "mt_ptr " .. o.x end,
    })
    local o = T(9)
    local p = ffi.cast("struct mt_ptr *", o)
    assert.equal(9, p:get())
    assert.equal(9, p.x)
    assert.equal("mt_ptr 9", tostring(p))
  end)

  it("array elements of the struct type get the methods", function()
    ffi.metatype("struct mt_arr", { __index = { twice = function(o) return o.x * 2 end } })
    local a = ffi.new("struct mt_arr[3]", { { 1 }, { 2 }, { 3 } })
    assert.equal(4, a[1]:twice())
    assert.equal(6, (a + 2):twice())
  end)

  it("a metatype on an opaque C struct, through pointers from C", function()
    ffi.metatype("tl_counter", {
      __index = {
        get = lib.tl_counter_get,
        incr = lib.tl_counter_incr,
        free = lib.tl_counter_free,
      },
    })
    local c = lib.tl_counter_new(5)
    c:incr(2)
    assert.equal(7, c:get())
    c:free()
  end)

  it("a union can have a metatype", function()
    local U = ffi.metatype("union mt_union", {
      __index = { bits = function(u) return u.i end },
    })
    local u = U()
    u.f = 1.0
    assert.equal(0x3f800000, u:bits())
  end)

  it("structs returned by value from C get the metatype", function()
    local Money
    Money = ffi.metatype("tl_money", {
      __add = function(a, b) return lib.tl_money_add(a, b) end,
      __eq = function(a, b) return lib.tl_money_cmp(a, b) == 0 end,
      __lt = function(a, b) return lib.tl_money_cmp(a, b) < 0 end,
      __tostring = function(m) return ("%d.%02d"):format(m.cents // 100, m.cents % 100) end,
      __index = { double = function(m) return m + m end },
    })
    local a = lib.tl_money_make(150)
    local b = Money(275)
    local c = a + b
    assert.is_true(ffi.istype("tl_money", c))
    assert.equal(425, c.cents)
    assert.equal("4.25", tostring(c))
    assert.equal("8.50", tostring(c:double()))
    assert.is_true(a < b)
    assert.is_true(c == Money(425))
  end)

  it("cannot be set twice", function()
    ffi.metatype("struct mt_twice", {})
    raises(function() ffi.metatype("struct mt_twice", {}) end,
      "cannot change a protected metatable")
  end)

  it("cannot be set twice even with the same table", function()
    raises(function() ffi.metatype("struct mt_vec", {}) end,
      "cannot change a protected metatable")
  end)

  it("rejects a type that is not a struct or union", function()
    raises(function() ffi.metatype("int", {}) end,
      "bad argument #1", "struct or union")
  end)

  it("rejects a metatable that is not a table", function()
    raises(function() ffi.metatype("struct mt_nonclose", 5) end, "bad argument #2")
  end)
end)

describe("metatype __gc", function()
  it("runs for every collected object", function()
    local n = 0
    local T = ffi.metatype("struct mt_gc", { __gc = function() n = n + 1 end })
    for i = 1, 10 do local _ = T(i) end
    fullgc()
    assert.equal(10, n)
    fullgc()
    assert.equal(10, n)   -- once per object
  end)

  it("gets the object with its fields", function()
    local ids = {}
    local T = ffi.metatype("struct mt_gcfields", {
      __gc = function(o) ids[#ids + 1] = o.id + o.d end,
    })
    do local _ = T(7, 0.5) end
    fullgc()
    assert.same({ 7.5 }, ids)
  end)

  it("does not run while the object is reachable", function()
    local n = 0
    local T = ffi.metatype("struct mt_closegc", {
      __gc = function() n = n + 1 end,
      __close = function() end,
    })
    local keep = T(1)
    fullgc()
    assert.equal(0, n)
    assert.equal(1, keep.id)
    keep = nil
    fullgc()
    assert.equal(1, n)
  end)
end)

describe("metatype __gc and ffi.gc together", function()
  it("ffi.gc replaces the metatype __gc for that object", function()
    local log = {}
    local T = ffi.metatype("struct mt_gcreplace", {
      __gc = function(o) log[#log + 1] = "mt" .. o.id end,
    })
    do
      local _ = T(1)
      local _ = ffi.gc(T(2), function(o) log[#log + 1] = "gc" .. o.id end)
    end
    fullgc()
    table.sort(log)
    assert.same({ "gc2", "mt1" }, log)
  end)
end)

describe("metatype __gc and ownership", function()
  local log = {}
  local T = ffi.metatype("struct mt_gcowned", {
    __gc = function(o) log[#log + 1] = o.id end,
  })

  before_each(function()
    fullgc()   -- objects left by the previous test go first
    for i = #log, 1, -1 do log[i] = nil end
  end)

  it("a reference to a member does not run __gc", function()
    do
      local o = ffi.new("struct mt_gcouter")
      o.inner.id = 7
      local r = o.inner
      assert.equal(7, r.id)
    end
    fullgc()
    assert.same({}, log)
  end)

  it("a pointer to the struct does not run __gc", function()
    local owner = T(9)
    do local _ = ffi.cast("struct mt_gcowned *", owner) end
    fullgc()
    assert.same({}, log)
    assert.equal(9, owner.id)
  end)

  it("a copy made by ffi.new has its own __gc", function()
    local a = T(1)
    do local _ = ffi.new("struct mt_gcowned", a) end
    fullgc()
    assert.same({ 1 }, log)
    assert.equal(1, a.id)
  end)

  it("an array of the struct does not run __gc per element", function()
    do local _ = ffi.new("struct mt_gcowned[2]", { { 1 }, { 2 } }) end
    fullgc()
    assert.same({}, log)
  end)

  it("a struct returned by value from C runs __gc", function()
    local n = 0
    ffi.metatype("tl_handle", { __gc = function(h) n = n + h.id end })
    do local _ = lib.tl_handle_make(5) end
    fullgc()
    assert.equal(5, n)
  end)

  it("ffi.gc(cd, nil) also removes the metatype __gc of that object", function()
    local n = 0
    local U = ffi.metatype("struct mt_gcnil", { __gc = function() n = n + 1 end })
    do
      local keep = U(1)
      ffi.gc(keep, nil)
    end
    fullgc()
    assert.equal(0, n)
  end)
end)

describe("metatype __close", function()
  local closed = {}
  local T = ffi.metatype("struct mt_close", {
    __close = function(o, err) closed[#closed + 1] = { o.id, err } end,
  })

  before_each(function()
    for i = #closed, 1, -1 do closed[i] = nil end
  end)

  it("runs at the end of the block", function()
    do
      local h <close> = T(5)
      assert.equal(5, h.id)
      assert.equal(0, #closed)
    end
    assert.equal(1, #closed)
    assert.equal(5, closed[1][1])
    assert.is_nil(closed[1][2])
  end)

  it("runs in reverse order", function()
    do
      local a <close> = T(1)
      local b <close> = T(2)
    end
    assert.equal(2, closed[1][1])
    assert.equal(1, closed[2][1])
  end)

  it("runs on error and gets the error", function()
    local ok, err = pcall(function()
      local h <close> = T(6)
      error("boom")
    end)
    assert.is_false(ok)
    assert.matches("boom", err, 1, true)
    assert.equal(6, closed[1][1])
    assert.matches("boom", tostring(closed[1][2]), 1, true)
  end)

  it("runs on return from a function", function()
    local function f()
      local h <close> = T(8)
      return h.id
    end
    assert.equal(8, f())
    assert.equal(8, closed[1][1])
  end)
end)

describe("ffi.gc", function()
  it("returns its cdata", function()
    local p = ffi.new("int[1]")
    assert.is_true(rawequal(p, ffi.gc(p, function() end)))
  end)

  it("runs the finalizer once after the object is collected", function()
    local n = 0
    do ffi.gc(ffi.new("int[1]"), function() n = n + 1 end) end
    fullgc()
    fullgc()
    assert.equal(1, n)
  end)

  it("passes the cdata to the finalizer", function()
    local got
    do
      local p = ffi.new("int[1]", 77)
      ffi.gc(p, function(q) got = q[0] end)
    end
    fullgc()
    assert.equal(77, got)
  end)

  it("does not run while the object is reachable", function()
    local n = 0
    local p = ffi.gc(ffi.new("int[1]"), function() n = n + 1 end)
    fullgc()
    assert.equal(0, n)
    p = nil
    fullgc()
    assert.equal(1, n)
  end)

  it("ffi.gc(cd, nil) removes the finalizer", function()
    local n = 0
    do
      local p = ffi.gc(ffi.new("int[1]"), function() n = n + 1 end)
      ffi.gc(p, nil)
    end
    fullgc()
    assert.equal(0, n)
  end)

  it("a second ffi.gc replaces the finalizer", function()
    local first, second = 0, 0
    do
      local p = ffi.gc(ffi.new("int[1]"), function() first = first + 1 end)
      ffi.gc(p, function() second = second + 1 end)
    end
    fullgc()
    assert.equal(0, first)
    assert.equal(1, second)
  end)

  it("works on pointers returned by C, with a C function as finalizer", function()
    local live0, freed0 = lib.tl_counters_live, lib.tl_counters_freed
    for i = 1, 20 do
      local c = ffi.gc(lib.tl_counter_new(i), lib.tl_counter_free)
      assert.equal(i, lib.tl_counter_get(c))
    end
    assert.equal(live0 + 20, lib.tl_counters_live)
    fullgc()
    assert.equal(live0, lib.tl_counters_live)
    assert.equal(freed0 + 20, lib.tl_counters_freed)
    assert.equal(0, lib.tl_counters_bad_free)
  end)

  it("the C finalizer runs exactly once", function()
    local freed0 = lib.tl_counters_freed
    do ffi.gc(lib.tl_counter_new(1), lib.tl_counter_free) end
    fullgc()
    fullgc()
    assert.equal(freed0 + 1, lib.tl_counters_freed)
    assert.equal(0, lib.tl_counters_bad_free)
  end)

  it("a removed C finalizer does not run", function()
    local freed0 = lib.tl_counters_freed
    local c = ffi.gc(lib.tl_counter_new(1), lib.tl_counter_free)
    ffi.gc(c, nil)
    c = nil
    fullgc()
    assert.equal(freed0, lib.tl_counters_freed)
  end)

  it("a C function pointer cdata as finalizer", function()
    local calls0 = lib.tl_free_calls
    local fin = ffi.cast("void (*)(void *)", lib.tl_free)
    for _ = 1, 10 do ffi.gc(lib.tl_malloc(32), fin) end
    fullgc()
    assert.equal(calls0 + 10, lib.tl_free_calls)
  end)

  it("ffi.C.free as finalizer of malloc'd memory", function()
    for _ = 1, 1000 do
      local p = ffi.gc(ffi.C.malloc(1024), ffi.C.free)
      ffi.cast("char *", p)[1023] = 1
    end
    assert.has_no.errors(fullgc)
  end)

  it("an object resurrected by its finalizer stays valid and is finalized once", function()
    local n, saved = 0, nil
    do
      local p = ffi.new("int[4]", 1, 2, 3, 4)
      ffi.gc(p, function(q) n = n + 1; saved = q end)
    end
    fullgc()
    assert.equal(1, n)
    assert.equal(4, saved[3])
    saved = nil
    fullgc()
    assert.equal(1, n)
  end)

  it("a finalizer can be a callable that errors without crashing", function()
    do ffi.gc(ffi.new("int[1]"), function() error("in finalizer") end) end
    -- Lua 5.4 turns errors in finalizers into warnings
    assert.has_no.errors(fullgc)
  end)

  it("rejects a non-cdata", function()
    raises(function() ffi.gc({}, function() end) end, "bad argument #1")
  end)

  it("rejects a finalizer that is neither function nor nil", function()
    raises(function() ffi.gc(ffi.new("int[1]"), 5) end, "bad argument #2")
  end)
end)

describe("finalizers at lua_close (separate interpreter)", function()
  it("ffi.gc finalizers run once when the state closes", function()
    local out, ok = run_lua [[
      local ffi = require "cffi"
      KEEP = ffi.gc(ffi.new("int[1]"), function() io.write("FIN\n") end)
      print("end")
    ]]
    assert.is_true(ok, out)
    assert.equal(1, count(out, "FIN"))
    assert.is_true(out:find("end", 1, true) < out:find("FIN", 1, true))
  end)

  it("metatype __gc runs when the state closes", function()
    local out, ok = run_lua [[
      local ffi = require "cffi"
      ffi.cdef "struct closegc { int id; };"
      local T = ffi.metatype("struct closegc", {
        __gc = function(o) io.write("GC", o.id, "\n") end })
      KEEP = { T(1), T(2) }
    ]]
    assert.is_true(ok, out)
    assert.equal(1, count(out, "GC1"))
    assert.equal(1, count(out, "GC2"))
  end)

  it("a C finalizer runs when the state closes", function()
    local out, ok = run_lua(([[
      local ffi = require "cffi"
      ffi.cdef [=[
        typedef struct tl_counter tl_counter;
        tl_counter *tl_counter_new(int start);
        void tl_counter_free(tl_counter *c);
      ]=]
      local lib = ffi.load(%q)
      KEEP = ffi.gc(lib.tl_counter_new(1), lib.tl_counter_free)
      print("ok")
    ]]):format(LIBPATH))
    assert.is_true(ok, out)
    assert.matches("ok", out, 1, true)
  end)
end)

describe("lifetime of ffi.new memory", function()
  it("is freed by the garbage collector", function()
    fullgc()
    local base = collectgarbage("count")
    for _ = 1, 200 do
      local buf = ffi.new("char[?]", 1000000)
      buf[999999] = 1
    end
    fullgc()
    local grown = collectgarbage("count") - base
    assert.is_true(grown < 4000, "grew by " .. grown .. " KB")
  end)

  it("counts in collectgarbage('count')", function()
    fullgc()
    local base = collectgarbage("count")
    local buf = ffi.new("char[?]", 1000000)
    local grown = collectgarbage("count") - base
    assert.is_true(grown >= 900, "grew by " .. grown .. " KB")
    assert.is_not_nil(buf)
  end)

  it("a reference to a member keeps its parent alive", function()
    local s = ffi.new("struct mt_union_holder")
    s.a[3] = 7
    local a = s.a
    s = nil
    fullgc()
    for _ = 1, 100 do local _ = ffi.new("struct mt_union_holder", { { 9, 9, 9, 9 } }) end
    fullgc()
    assert.equal(7, a[3])
  end)
end)
