-- The module keeps all its state per lua_State.  spec/lib/layout.c creates
-- further lua_States in this very process, through the Lua API the running
-- interpreter exports, and opens the cffi.so this run loaded in each of
-- them: the same shared object serves several independent universes, as in
-- a game engine.  Also: requiring the module again in one state.
local ffi = require "cffi"

ffi.cdef [[
  void *layout_state_new(const char *path);
  const char *layout_state_run(void *L, const char *chunk);
  void layout_state_close(void *L);
]]

local lib = ffi.load("./spec/lib/libcffitest.so")

-- The cffi.so this interpreter loaded (./cffi.so, or the ASan build).
local modpath = package.searchpath("cffi", package.cpath)

-- A new state with cffi; run(code) runs code there (as the body of a
-- function, under pcall) and returns tostring of its result or "ERR: msg".
local function newstate()
  local L = lib.layout_state_new(modpath)
  assert(L ~= nil, "layout_state_new failed for " .. tostring(modpath))
  local st = { L = L }
  function st.run(code)
    local chunk = "local ffi = require 'cffi'\n" ..
      "local ok, r = pcall(function()\n" .. code .. "\nend)\n" ..
      "if ok then return tostring(r) else return 'ERR: ' .. tostring(r) end"
    local r = lib.layout_state_run(st.L, chunk)
    return r ~= nil and ffi.string(r) or "NULL"
  end
  function st.close()
    if st.L then lib.layout_state_close(st.L) end
    st.L = nil
  end
  return st
end

describe("independent lua_States", function()
  local A, B

  before_each(function()
    A, B = newstate(), newstate()
  end)

  after_each(function()
    A.close()
    B.close()
  end)

  it("found the module this run loaded", function()
    assert.is_string(modpath)
  end)

  it("each gets a working module", function()
    assert.equal("4", A.run("return ffi.sizeof('int')"))
    assert.equal("function", B.run("return type(ffi.cdef)"))
  end)

  it("a declaration in one is not visible in the other", function()
    assert.equal("4", A.run("ffi.cdef('typedef struct { int a; } st_only_a;') return ffi.sizeof('st_only_a')"))
    assert.matches("^ERR: .*st_only_a", B.run("return ffi.sizeof('st_only_a')"))
  end)

  it("one name can mean different types in each", function()
    A.run("ffi.cdef('struct st_same { int a; };')")
    B.run("ffi.cdef('struct st_same { double a, b; };')")
    assert.equal("4", A.run("return ffi.sizeof('struct st_same')"))
    assert.equal("16", B.run("return ffi.sizeof('struct st_same')"))
  end)

  it("constants are per state", function()
    A.run("ffi.cdef('enum { ST_K = 3 };')")
    B.run("ffi.cdef('enum { ST_K = 5 };')")
    assert.equal("3", A.run("return ffi.sizeof('char[ST_K]')"))
    assert.equal("5", B.run("return ffi.sizeof('char[ST_K]')"))
  end)

  it("this state's declarations are not visible in a new one", function()
    ffi.cdef("typedef struct { char c[7]; } st_main_only;")
    assert.equal(7, ffi.sizeof("st_main_only"))
    assert.matches("^ERR: .*st_main_only", A.run("return ffi.sizeof('st_main_only')"))
  end)

  it("a new state's declarations are not visible here", function()
    A.run("ffi.cdef('typedef int st_from_a;')")
    local ok = pcall(ffi.typeof, "st_from_a")
    assert.is_false(ok)
  end)

  it("closing one leaves the other and this state working", function()
    assert.equal("ok", B.run([[
      ffi.cdef('struct st_keep { int v[4]; };')
      KEEP = ffi.new('struct st_keep', { v = { 1, 2, 3, 4 } })
      return 'ok']]))
    A.run("ffi.cdef('struct st_gone { int x; };') G = ffi.new('struct st_gone')")
    A.close()
    collectgarbage()
    assert.equal("10", B.run("local s = 0 for i = 0, 3 do s = s + KEEP.v[i] end return s"))
    assert.equal("16", B.run("return ffi.sizeof(KEEP)"))
    assert.equal(4, ffi.sizeof("int"))
  end)

  it("errors carry the same messages in every state", function()
    -- (the message may carry the position of the calling Lua code first)
    for _, st in ipairs({ A, B }) do
      local r = st.run("ffi.cdef('int st_a\\nint st_b;')")
      assert.equal("ERR: ", r:sub(1, 5))
      assert.equal("cdef:2: ';' expected near 'int'", r:match("cdef:%d+: .*$"))
    end
  end)

  it("cdata of one state are independent of another's collection", function()
    A.run("P = ffi.new('int[1000]', 7)")
    B.run("for i = 1, 100 do ffi.new('int[1000]') end collectgarbage()")
    assert.equal("7", A.run("collectgarbage() return P[999]"))
  end)

  it("a state with live cdata, ctypes and declarations closes cleanly", function()
    assert.equal("ok", A.run([[
      ffi.cdef('struct st_live { int a; double b; }; typedef struct st_live *st_livep;')
      T = ffi.typeof('struct st_live')
      X = { ffi.new(T, 1, 2), ffi.new('int[?]', 100), ffi.cast('st_livep', nil) }
      return 'ok']]))
    A.close()
  end)
end)

describe("many states", function()
  it("can be created and closed in turn", function()
    for i = 1, 20 do
      local s = newstate()
      assert.equal(tostring(i * 4), s.run(("ffi.cdef('struct st_many { int a[%d]; };') " ..
        "return ffi.sizeof('struct st_many')"):format(i)))
      s.close()
    end
  end)

  it("can be alive at once, each with its own declarations", function()
    local states = {}
    for i = 1, 8 do
      states[i] = newstate()
      states[i].run(("ffi.cdef('typedef char st_n[%d];')"):format(i))
    end
    for i = 1, 8 do
      assert.equal(tostring(i), states[i].run("return ffi.sizeof('st_n')"))
    end
    for i = 1, 8 do states[i].close() end
  end)
end)

describe("requiring the module again in one state", function()
  local saved

  before_each(function()
    saved = package.loaded.cffi
  end)

  after_each(function()
    package.loaded.cffi = saved
  end)

  it("works and gives a module table", function()
    package.loaded.cffi = nil
    local ffi2 = require "cffi"
    assert.is_table(ffi2)
    assert.equal("function", type(ffi2.cdef))
    assert.equal(4, ffi2.sizeof("int"))
  end)

  it("keeps earlier declarations", function()
    ffi.cdef("struct st_before { int a, b, c; };")
    package.loaded.cffi = nil
    local ffi2 = require "cffi"
    assert.equal(12, ffi2.sizeof("struct st_before"))
  end)

  it("shares ctypes and cdata with the first module table", function()
    local x = ffi.new("struct st_before", 1, 2, 3)
    package.loaded.cffi = nil
    local ffi2 = require "cffi"
    assert.equal(ffi.typeof("int *"), ffi2.typeof("int *"))
    assert.is_true(ffi2.istype("struct st_before", x))
    assert.equal(ffi.typeof(x), ffi2.typeof(x))
    assert.equal(3, x.c)
  end)

  it("declarations through either table are seen by both", function()
    package.loaded.cffi = nil
    local ffi2 = require "cffi"
    ffi2.cdef("typedef struct { short s[5]; } st_via2;")
    assert.equal(10, ffi.sizeof("st_via2"))
  end)

  it("cdata made by either table work with the other's functions", function()
    package.loaded.cffi = nil
    local ffi2 = require "cffi"
    local a = ffi2.new("char[4]", "abc")
    assert.equal("abc", ffi.string(a))
    ffi.fill(a, 3, 65)
    assert.equal("AAA", ffi2.string(a))
  end)
end)
