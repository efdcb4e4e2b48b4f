-- The examples run and print what they promise.
local ffi = require "cffi"   -- luacheck: ignore (keeps the module built/loaded)
local support = require "support"

local run = support.run

local function has(out, s)
  assert.matches(s, out, 1, true)
end

describe("examples/zlib.lua", function()
  local out, ok

  setup(function()
    out, ok = run("lua5.4 examples/zlib.lua")
  end)

  it("exits with status 0", function()
    assert.is_true(ok, out)
  end)

  it("prints the zlib version", function()
    assert.matches("zlib 1%.%d+", out)
  end)

  it("prints the sizes", function()
    local orig, packed = out:match("original (%d+) bytes, compressed (%d+) bytes")
    assert.equal("2250", orig)
    assert.is_true(tonumber(packed) < 200, out)
  end)

  it("round trips", function()
    has(out, "round trip ok")
  end)

  it("compresses a text given as argument", function()
    local o, good = run("lua5.4 examples/zlib.lua 'hello, hello, hello'")
    assert.is_true(good, o)
    has(o, "original 19 bytes")
    has(o, "round trip ok")
  end)
end)

describe("examples/counter.lua", function()
  local out, ok

  setup(function()
    out, ok = run("lua5.4 examples/counter.lua")
  end)

  it("exits with status 0", function()
    assert.is_true(ok, out)
  end)

  it("methods and __tostring work through pointers from C", function()
    has(out, "Counter(16)\n")
    has(out, "value 16\n")
  end)

  it("one counter is live after the first", function()
    has(out, "live counters: 1\n")
    has(out, "live counters before collect: ")
  end)

  it("the GC frees the forgotten counters", function()
    has(out, "live counters after collect: 1\n")
  end)

  it("__close frees a scoped counter", function()
    has(out, "scoped Counter(42)\n")
    has(out, "live counters after scope: 1\n")
  end)

  it("an explicit free leaves nothing live", function()
    has(out, "live counters at the end: 0\n")
  end)

  it("runs from another working directory", function()
    local root = io.popen("pwd"):read("l")
    local cpath = os.getenv("CFFI_CPATH") or "./?.so"
    if cpath:sub(1, 1) ~= "/" then cpath = root .. "/" .. cpath:gsub("^%./", "") end
    local o = run(("cd /tmp && lua5.4 '%s/examples/counter.lua'"):format(root), cpath)
    assert.matches("[exit 0]", o, 1, true)
    has(o, "live counters at the end: 0\n")
  end)
end)
