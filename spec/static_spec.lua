-- libcffi.a: a host links the module statically and registers it with
-- luaL_requiref; two lua_States in one process stay independent.
local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

describe("static linking (libcffi.a)", function()
  local host = os.tmpname()

  setup(function()
    local cflags = select(2, sh("pkg-config --cflags lua5.4")):gsub("%s+$", "")
    local libs = select(2, sh("pkg-config --libs lua5.4 libffi")):gsub("%s+$", "")
    local ok, out = sh(("cc -o %s spec/host/host.c %s libcffi.a %s -ldl -lm"):format(host, cflags, libs))
    assert(ok, out)
  end)

  teardown(function() os.remove(host) end)

  it("runs the module in two lua_States of one host, each with its own declarations", function()
    local ok, out = sh(host .. " spec/host/script.lua")
    assert.is_true(ok, out)
    assert.matches("state 1 ok\nstate 2 ok\nstate 1 ok\nhost: ok", out, 1, true)
  end)

  it("exports only luaopen_cffi even when built without -fvisibility (the rock's build)", function()
    local base = os.tmpname()
    local so = base .. ".so"
    os.remove(base)
    local cflags = select(2, sh("pkg-config --cflags lua5.4")):gsub("%s+$", "")
    local ok, out = sh(("cc -O0 -fPIC -shared -D_GNU_SOURCE %s -o %s src/*.c -lffi -ldl -lm"):format(cflags, so))
    assert.is_true(ok, out)
    ok, out = sh("nm -D --defined-only " .. so)
    os.remove(so)
    assert.is_true(ok, out)
    local names = {}
    for name in out:gmatch("%x+ [TDBR] (%S+)") do names[#names + 1] = name end
    assert.same({ "luaopen_cffi" }, names)
  end)

  it("exports luaopen_cffi and nothing else from cffi.so", function()
    local ok, out = sh("nm -D --defined-only cffi.so")
    assert.is_true(ok, out)
    local names = {}
    for name in out:gmatch("%x+ [TDBR] (%S+)") do names[#names + 1] = name end
    assert.same({ "luaopen_cffi" }, names)
  end)
end)
