-- Helpers shared by the spec files: `local support = require "support"`
-- (spec/helper.lua puts ./spec/?.lua on package.path).  A module runs in
-- _G, where `assert` is Lua's own: take busted's (luassert) explicitly, so
-- a failed check is reported like any other.
local assert = require "luassert"

local support = {}

-- The message of the error f(...) raises (fails when f does not raise).
function support.errof(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error, got none")
  return tostring(err)
end

-- f() raises an error whose message contains every given substring
-- (plain text, not patterns); returns the message.
function support.raises(f, ...)
  local err = support.errof(f)
  for i = 1, select("#", ...) do
    local s = select(i, ...)
    assert.is_truthy(err:find(s, 1, true), ("expected %q in error %q"):format(s, err))
  end
  return err
end

-- Lua values of the n elements of array-like cdata a.
function support.elems(a, n)
  local t = {}
  for i = 0, n - 1 do t[#t + 1] = a[i] end
  return t
end

function support.writefile(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

function support.readfile(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("a")
  f:close()
  return data
end

-- Run a shell command (it may be a list: "cd /tmp && lua5.4 x.lua") with
-- this build of the module first on LUA_CPATH (CFFI_CPATH, as in
-- spec/helper.lua, or the cpath given); returns its output (stdout and
-- stderr) ending with "[exit N]", and whether N is 0.
function support.run(cmd, cpath)
  cpath = cpath or os.getenv("CFFI_CPATH") or "./?.so"
  local p = io.popen(("export LUA_CPATH='%s;;'; { %s; } 2>&1; echo \"[exit $?]\"")
                     :format(cpath, cmd))
  local out = p:read("a")
  p:close()
  return out, out:find("[exit 0]", 1, true) ~= nil
end

-- Run Lua code in a fresh interpreter (for what could crash or needs
-- lua_close); returns what support.run returns.
function support.run_lua(code)
  local script = os.tmpname()
  support.writefile(script, code)
  local out, ok = support.run(("lua5.4 '%s'"):format(script))
  os.remove(script)
  return out, ok
end

return support
