-- Per-call cost of cffi against a hand-written lua_CFunction (handbind.c)
-- calling the same C functions (benchlib.c), interleaved in one process.
--   lua5.4 bench/add.lua [REPS]            (bench/run.sh builds and runs it)
-- Env: BENCH_BUILD dir with libbench.so and handbind.so; BENCH_MIN_TIME
-- seconds per measurement (default 0.2); BENCH_ONLY="cffi:add" with
-- BENCH_N=<n> runs one loop of n calls and nothing else (for callgrind).
local dir = (arg and arg[0] and arg[0]:match("^(.*)/")) or "."
local build = os.getenv("BENCH_BUILD") or (dir .. "/build")
package.cpath = "./?.so;" .. build .. "/?.so;" .. package.cpath

local ffi = require "cffi"
local hb = require "handbind"

ffi.cdef [[
int bench_add(int a, int b);
double bench_add_d(double a, double b);
void bench_noop(void);
int bench_sum8(int a, int b, int c, int d, int e, int f, int g, int h);
size_t bench_strlen(const char *s);
]]
local lib = ffi.load(build .. "/libbench.so")

-- Each case: the same loop over a cffi function and a handbind function.
local function loop_add(f, n) local x = 0; for _ = 1, n do x = f(x, 1) end; return x == n end
local function loop_add_d(f, n) local x = 0.0; for _ = 1, n do x = f(x, 0.5) end; return x == n * 0.5 end
local function loop_noop(f, n) for _ = 1, n do f() end; return true end
local function loop_sum8(f, n)
  local x; for i = 1, n do x = f(i, 1, 2, 3, 4, 5, 6, 7) end; return x == n + 28
end
local function loop_strlen(f, n)
  local s, r = "hello world"; for _ = 1, n do r = f(s) end; return r == 11
end

local CASES = {
  { name = "add",    loop = loop_add,    cffi = lib.bench_add,    hand = hb.add },
  { name = "add_d",  loop = loop_add_d,  cffi = lib.bench_add_d,  hand = hb.add_d },
  { name = "noop",   loop = loop_noop,   cffi = lib.bench_noop,   hand = hb.noop },
  { name = "sum8",   loop = loop_sum8,   cffi = lib.bench_sum8,   hand = hb.sum8 },
  { name = "strlen", loop = loop_strlen, cffi = lib.bench_strlen, hand = hb.strlen },
}

local only = os.getenv("BENCH_ONLY")
if only then
  local which, cname = only:match("^(%a+):(.+)$")
  local n = tonumber(os.getenv("BENCH_N") or "") or 100000
  for _, c in ipairs(CASES) do
    if c.name == cname then
      assert(c.loop(c[which], n), "result check failed")
      os.exit(0)
    end
  end
  error("unknown case " .. tostring(only))
end

local mintime = tonumber(os.getenv("BENCH_MIN_TIME") or "") or 0.2
local reps = tonumber(arg[1] or "") or 5

-- ns per call of one loop, growing n until a run lasts mintime
local function measure(loop, f)
  local n = 10000
  loop(f, 1000)
  while true do
    collectgarbage("collect")
    local t0 = os.clock()
    assert(loop(f, n), "result check failed")
    local t = os.clock() - t0
    if t >= mintime then return t * 1e9 / n end
    n = n * math.max(2, math.min(100, math.ceil(mintime * 1.3 / math.max(t, 1e-6))))
  end
end

local function median(t)
  table.sort(t)
  local k = #t
  return k % 2 == 1 and t[(k + 1) // 2] or (t[k // 2] + t[k // 2 + 1]) / 2
end

local res = {}
for _, c in ipairs(CASES) do res[c.name] = { cffi = {}, hand = {} } end
for _ = 1, reps do
  for _, c in ipairs(CASES) do
    table.insert(res[c.name].cffi, measure(c.loop, c.cffi))
    table.insert(res[c.name].hand, measure(c.loop, c.hand))
  end
end

print(string.format("%-8s %12s %12s %8s", "case", "cffi ns", "handbind ns", "ratio"))
for _, c in ipairs(CASES) do
  local m, h = median(res[c.name].cffi), median(res[c.name].hand)
  print(string.format("%-8s %12.2f %12.2f %7.2fx", c.name, m, h, m / h))
end
