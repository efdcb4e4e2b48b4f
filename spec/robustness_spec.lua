-- Robustness: inputs reachable from Lua that crashed the process (found by
-- scripts/fuzz.lua, then reduced by hand).  The promise is "a mistake gives
-- a clear Lua error, never a segfault", so every case runs in a fresh
-- interpreter (support.run_lua): a crash there fails the spec instead of
-- killing busted.  Under `make asan` the child inherits LD_PRELOAD and
-- CFFI_CPATH, so an ASan report fails the spec too.
local ffi = require "cffi"
local support = require "support"

local LIB = "./spec/lib/libcffitest.so"

-- Run `code` (ffi is a local there) in a new lua5.4; the process must run
-- to its end.  Returns the output.
local function fresh(code)
  local out, ok = support.run_lua('local ffi = require "cffi"\n' .. code ..
                                  '\nio.stdout:flush() print("<done>")')
  assert.is_true(ok and out:find("<done>", 1, true) ~= nil,
                 "the process did not finish cleanly:\n" .. out)
  return out
end

-- The output must contain each given substring (plain text).
local function has(out, ...)
  for i = 1, select("#", ...) do
    local s = select(i, ...)
    assert.is_truthy(out:find(s, 1, true), ("expected %q in:\n%s"):format(s, out))
  end
end

describe("robustness", function()

  it("the ffi module is loaded (sanity)", function()
    assert.equal("function", type(ffi.new))
  end)

  describe("flexible and variable-length members", function()
    -- cconv_fromstring copies the whole string when the array size is
    -- unknown (CCONV_UNKNOWN): x.s = str writes past the object.
    it("a long string assigned to a flexible char member does not overflow", function()
      local out = fresh [[
        local x = ffi.new("struct { int n; char s[]; }")
        local ok, err = pcall(function() x.s = ("A"):rep(1 << 20) end)
        print("RES", ok, err)
        local keep = {}
        for i = 1, 1000 do keep[i] = ffi.new("char[40]") end
        collectgarbage()
      ]]
      has(out, "RES")
    end)

    it("a long string assigned to a VLA char member does not overflow", function()
      local out = fresh [[
        local x = ffi.new("struct { int n; char s[?]; }", 2)
        local ok, err = pcall(function() x.s = ("A"):rep(1 << 20) end)
        print("RES", ok, err)
        collectgarbage()
      ]]
      has(out, "RES")
    end)

    -- cconv_tabarray with an unknown size writes every table element.
    it("a long table assigned to a VLA member is refused", function()
      local out = fresh [[
        local x = ffi.new("struct { int n; int s[?]; }", 2)
        local t = {}
        for i = 1, 100000 do t[i] = i end
        local ok, err = pcall(function() x.s = t end)
        print("RES", ok, err)
        collectgarbage()
      ]]
      has(out, "RES\tfalse", "too many initializers")
    end)

    -- cdata_extent answers "unknown" for records with CTF_VLA/CTF_FLEX,
    -- although the instance size is known (cdata_size).
    it("ffi.fill beyond a variable-length struct is refused", function()
      local out = fresh [[
        local x = ffi.new("struct { int n; char s[?]; }", 4)
        print("RES", pcall(ffi.fill, x, 1 << 20))
        collectgarbage()
      ]]
      has(out, "RES\tfalse", "out of range")
    end)

    it("ffi.copy beyond a flexible struct is refused", function()
      local out = fresh [[
        local x = ffi.new("struct { int n; char s[]; }")
        print("RES", pcall(ffi.copy, x, ("A"):rep(1 << 20)))
        collectgarbage()
      ]]
      has(out, "RES\tfalse", "out of range")
    end)

    it("ffi.string of a variable-length struct stays inside it", function()
      local out = fresh [[
        local x = ffi.new("struct { int n; char s[?]; }", 4)
        ffi.fill(x, ffi.sizeof(x), 65)          -- no NUL anywhere
        local ok, s = pcall(ffi.string, x)
        print("RES1", ok, ok and #s <= ffi.sizeof(x))
        print("RES2", pcall(ffi.string, x, 1 << 20))
      ]]
      has(out, "RES1\ttrue\ttrue", "RES2\tfalse", "out of range")
    end)
  end)

  -- cconv.c takes luaL_Stream.f without checking closef: a closed file's
  -- FILE * was freed by fclose.
  it("a closed io file is not passed as a dangling FILE *", function()
    local out = fresh [[
      local name = os.tmpname()
      local f = io.open(name, "w")
      f:close()
      os.remove(name)
      ffi.cdef "typedef struct _IO_FILE FILE; int fflush(FILE *f);"
      local buf = ffi.new("char[8]")
      print("RES1", pcall(ffi.copy, buf, f, 8))
      print("RES2", pcall(ffi.C.fflush, f))
    ]]
    has(out, "RES1\tfalse", "RES2\tfalse", "closed file")
  end)

  -- A function cdata converts to void *: ffi.copy/ffi.fill then write
  -- into the function's code.
  it("ffi.copy and ffi.fill refuse a function as destination", function()
    local out = fresh [[
      ffi.cdef "int abs(int);"
      print("RES1", pcall(ffi.fill, ffi.C.abs, 16))
      print("RES2", pcall(ffi.copy, ffi.C.abs, "xyz"))
    ]]
    has(out, "RES1\tfalse", "RES2\tfalse", "cannot convert")
  end)

  describe("library handles", function()
    -- The namespace's handle is a value in the namespace table (next()
    -- finds it) and its metatable is not protected: its __gc calls dlclose
    -- on whatever userdata it is given.
    it("the handle's __gc cannot be called on another userdata", function()
      local out = fresh([[
        local lib = ffi.load("]] .. LIB .. [[")
        local h
        for _, v in next, lib do if type(v) == "userdata" then h = v end end
        local mt = getmetatable(h)
        local gc = type(mt) == "table" and mt.__gc
        if gc then print("RES", pcall(gc, ffi.new("char *"))) end
        collectgarbage()
      ]])
      assert.is_falsy(out:find("RES\ttrue", 1, true), out)
    end)

    -- clib_test accepts any userdata at the private key.
    it("a namespace whose handle was replaced gives an error", function()
      local out = fresh([[
        ffi.cdef "int tl_add(int a, int b);"
        local lib = ffi.load("]] .. LIB .. [[")
        local k = next(lib)
        while type(rawget(lib, k)) ~= "userdata" do k = next(lib, k) end
        rawset(lib, k, ffi.new("char[64]", 1))
        print("RES1", pcall(function() return lib.tl_add end))
        print("RES2", pcall(ffi.dlclose, lib))
      ]])
      has(out, "RES1\tfalse", "RES2\tfalse")
    end)

    -- ffi.cast of a function fetched from a library closed since gives a
    -- pointer to unmapped code; calling it jumps there.
    it("a function of a closed library does not convert to a pointer", function()
      local out = fresh([[
        ffi.cdef "int tl_add1(int x);"
        local lib = ffi.load("]] .. LIB .. [[")
        local f = lib.tl_add1
        ffi.dlclose(lib)
        local ok, p = pcall(ffi.cast, "int (*)(int)", f)
        print("RES1", ok, ok and "" or p)
        if ok then print("RES2", pcall(p, 5)) end
      ]])
      has(out, "RES1\tfalse", "has been closed")
    end)
  end)

  -- cdata_self / cdata_ctself take slot 1 as a cdata / ctype without
  -- checking: debug.getmetatable exposes the metamethods.
  it("cdata and ctype metamethods check their first argument", function()
    local out = fresh [[
      local mt = debug.getmetatable(ffi.new("int[2]"))
      print("RES1", pcall(mt.__index, io.stdout, 1))
      print("RES2", pcall(mt.__tostring, io.stdout))
      print("RES3", pcall(mt.__len, newproxy and newproxy() or io.stderr))
      local ct = debug.getmetatable(ffi.typeof("int"))
      print("RES4", pcall(ct.__tostring, io.stdout))
    ]]
    has(out, "RES1\tfalse", "RES2\tfalse", "RES3\tfalse", "RES4\tfalse")
  end)

  -- An undeclared enum tag is an incomplete type (size 0), yet an array of
  -- it gets a count: ffi.new("enum nosuch[3]") is a 0-byte object with
  -- #a == 3 whose elements are read and written as 4-byte ints.
  it("an array of an incomplete enum is not read past its storage", function()
    local out = fresh [[
      local ok, a = pcall(ffi.new, "enum rb_nosuch[3]")
      print("NEW", ok, ok and "" or a)
      if ok then
        print("RES1", pcall(function() return a[1] end))
        print("RES2", pcall(function() a[2] = 5 end))
      end
      local okv, v = pcall(ffi.new, "enum rb_nosuch[?]", 4)
      if okv then print("RES3", pcall(function() return v[3] end)) end
    ]]
    assert.is_falsy(out:find("RES%d\ttrue"), out)
  end)

  -- ffi.new("int &") makes a reference holding NULL; cconv_ct follows a
  -- CT_REF source without checking it (UBSan: load of null pointer in
  -- cconv_getint / cconv_ct).
  it("a NULL reference is never followed", function()
    local out = fresh [[
      local ok, r = pcall(ffi.new, "int &")
      print("NEW", ok)
      if ok then
        print("RES1", pcall(ffi.new, "int", r))
        print("RES2", pcall(function() return r + 1 end))
        local okq, q = pcall(ffi.new, "int *&")
        if okq then print("RES3", pcall(ffi.new, "int *", q)) end
      end
    ]]
    assert.is_falsy(out:find("RES%d\ttrue"), out)
  end)

  -- The recursion of table initialisers follows the type's nesting, which
  -- a chain of typedefs makes as deep as one likes: the C stack overflows.
  it("a table initialiser for a very deeply nested type gives an error", function()
    local out = fresh [[
      local n = 100000
      ffi.cdef "typedef struct { int v; } RB_D0;"
      local ok, err = pcall(function()
        for i = 1, n do
          ffi.cdef(("typedef struct { RB_D%d a; } RB_D%d;"):format(i - 1, i))
        end
      end)
      print("CDEF", ok, err)
      if ok then
        local t = 7
        for _ = 1, n do t = { a = t } end
        print("RES", pcall(ffi.new, "RB_D" .. n, t))
      end
    ]]
    has(out, "CDEF")
  end)

  -- Freed closures are reused for new callbacks of any type: a C pointer
  -- to a freed int (*)(int) callback then calls a closure prepared for a
  -- struct-returning type, which writes its 32-byte result through the
  -- int argument taken as the hidden result pointer.
  it("a stale callback pointer never reaches a closure of another type", function()
    local out = fresh([[
      ffi.cdef [=[
        struct cbt_big { int64_t a, b, c, d; };
        void cbt_store(int (*f)(int));
        int cbt_call_stored(int x);
      ]=]
      local lib = ffi.load("]] .. LIB .. [[")
      local cb = ffi.cast("int (*)(int)", function(x) return x end)
      lib.cbt_store(cb)
      cb:free()
      local keep = {}
      for i = 1, 40 do
        local c = ffi.cast("struct cbt_big (*)(struct cbt_big)", function(b) return b end)
        keep[i] = c
        if i <= 20 then c:free() end
      end
      print("RES", pcall(lib.cbt_call_stored, 7))
      lib.cbt_store(nil)
    ]])
    has(out, "RES")
  end)

  -- ffi.cast allocates (and zero-fills) the target object before finding
  -- that nothing converts to an array: ffi.cast("char[8589934592]", 0)
  -- takes a minute and 8 GB before its error.
  it("a cast to a huge aggregate fails without allocating it", function()
    local before = collectgarbage("count")
    local ok, err = pcall(ffi.cast, "char[268435456]", 0)
    local grew = collectgarbage("count") - before
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("cannot convert", 1, true), err)
    assert.is_true(grew < 1024, ("the failed cast allocated %.0f KB"):format(grew))
  end)

  -- ccall_walk / ccall_mark describe a by-value record element by element
  -- (one ffi_type per char): 2^26 bytes take 11 s and 500 MB, 2^31 bytes
  -- minutes and tens of GB (found by the fuzzer as a hang).
  it("a function type with a huge by-value struct is described quickly", function()
    local t0 = os.clock()
    local ok = pcall(ffi.cast, "int (*)(struct { char a[1 << 26]; })", function() return 1 end)
    local ok2 = pcall(ffi.typeof, "struct { char a[1 << 26]; } (*)(int)")
    local dt = os.clock() - t0
    assert.is_true(dt < 2, ("took %.1f s (ok=%s, %s)"):format(dt, tostring(ok), tostring(ok2)))
  end)

  -- At lua_close, finalizers of objects marked before require "cffi" run
  -- after the module state was freed: ffi.* then read a NULL CTState.
  it("ffi.* in a finalizer that runs after the module state is gone", function()
    local out, ok = support.run_lua [[
      local early = setmetatable({}, { __gc = function()
        local ffi = package.loaded.cffi
        print("RES", pcall(ffi.new, "int[4]"))
        print("RES", pcall(ffi.typeof, "int"))
        print("<gc done>")
      end })
      local ffi = require "cffi"
      local x = ffi.new("int")
    ]]
    assert.is_true(ok, out)
    has(out, "<gc done>")
  end)

  -- Follow-ups of the findings above: the messages, and neighbours of the
  -- repros (same pattern, other entry points).
  describe("follow-ups", function()
    it("every entry point says the state is gone", function()
      local out, ok = support.run_lua([[
        local early = setmetatable({}, { __gc = function()
          local ffi = package.loaded.cffi
          print("RES1", pcall(ffi.sizeof, "int"))
          print("RES2", pcall(tostring, X))
          print("RES3", pcall(function() return X[0] end))
          print("RES4", pcall(function() return X + 1 end))
          print("RES5", pcall(function() return #X end))
          print("RES6", pcall(T, 1))
          print("RES7", pcall(function() return L.tl_add end))
          print("RES8", pcall(ffi.isnull, nil))
          print("RES9", pcall(tostring, L))
          print("<gc done>")
        end })
        local ffi = require "cffi"
        X = ffi.new("int[4]")
        T = ffi.typeof("int[1]")
        ffi.cdef "int tl_add(int a, int b);"
        L = ffi.load("]] .. LIB .. [[")
      ]])
      assert.is_true(ok, out)
      for i = 1, 9 do has(out, ("RES%d\tfalse"):format(i)) end
      local _, n = out:gsub("cffi state is gone", "")
      assert.equal(9, n, out)
    end)

    it("a function fetched from ffi.C earlier says the state is gone", function()
      local out, ok = support.run_lua [[
        local early = setmetatable({}, { __gc = function()
          print("RES", pcall(ABS, -3))
          print("<gc done>")
        end })
        local ffi = require "cffi"
        ffi.cdef "int abs(int);"
        ABS = ffi.C.abs
        assert(ABS(-3) == 3)
      ]]
      assert.is_true(ok, out)
      has(out, "RES\tfalse")
      has(out, "cffi state is gone")
      has(out, "<gc done>")
    end)

    it("the state's __gc ignores any other value", function()
      local out = fresh [[
        local _, st = debug.getupvalue(ffi.new, 1)
        local gc = debug.getmetatable(st).__gc
        print("RES", pcall(gc, io.stdout), pcall(gc, ffi.new("char[64]")), pcall(gc, 1))
        print("NEW", ffi.new("int", 7) ~= nil)
      ]]
      has(out, "NEW\ttrue")
    end)

    it("cdata metamethods refuse a table given the cdata metatable", function()
      local out = fresh [[
        local mt = debug.getmetatable(ffi.new("int[2]"))
        local t = debug.setmetatable({}, mt)
        print("RES1", pcall(mt.__index, t, 0))
        print("RES2", pcall(mt.__gc or mt.__len, t))
        print("RES3", pcall(mt.__call, t))
      ]]
      has(out, "RES1\tfalse", "RES2\tfalse", "RES3\tfalse", "cdata expected")
    end)

    it("ctype metamethods name what they expect", function()
      local ct = debug.getmetatable(ffi.typeof("int"))
      assert.error_matches(function() ct.__call(io.stdout) end, "ctype expected", nil, true)
      assert.error_matches(function() ct.__index(ffi.new("int"), "x") end, "ctype expected", nil, true)
      local t = debug.setmetatable({}, ct)
      assert.error_matches(function() ct.__tostring(t) end, "ctype expected", nil, true)
    end)

    it("the library handle's metatable is protected and its __gc checks", function()
      local lib = ffi.load(LIB)
      local h
      for _, v in next, lib do if type(v) == "userdata" then h = v end end
      assert.equal("library handle", getmetatable(h))
      local gc = debug.getmetatable(h).__gc
      assert.error_matches(function() gc(ffi.new("char *")) end,
                           "library handle expected", nil, true)
      assert.error_matches(function() gc(io.stdout) end, "library handle expected", nil, true)
    end)

    it("a namespace whose handle was replaced is not a library", function()
      local lib = ffi.load(LIB)
      local k = next(lib)
      while type(rawget(lib, k)) ~= "userdata" do k = next(lib, k) end
      rawset(lib, k, io.stdout)
      assert.error_matches(function() return lib.tl_add end, "library expected", nil, true)
      assert.error_matches(function() ffi.dlclose(lib) end, "library expected", nil, true)
      assert.error_matches(function() ffi.addressof(lib, "x") end, "library expected", nil, true)
    end)

    it("a function pointer is not a destination either", function()
      local fp = ffi.cast("int (*)(int)", function(x) return x end)
      assert.error_matches(function() ffi.fill(fp, 4) end,
                           "cannot convert 'cdata<int (*)(int)>' to 'void *'", nil, true)
      assert.error_matches(function() ffi.copy(fp, "ab", 2) end,
                           "cannot convert 'cdata<int (*)(int)>' to 'void *'", nil, true)
      fp:free()
      -- an explicit cast still does it (the caller says what the memory is)
      local buf = ffi.new("char[4]")
      ffi.fill(ffi.cast("void *", buf), 4, 66)
      assert.equal("BBBB", ffi.string(buf, 4))
    end)

    it("flexible and VLA members are bounded by their object", function()
      local x = ffi.new("struct { int n; char s[?]; }", 4)
      ffi.copy(x.s, "abc")
      assert.equal("abc", ffi.string(x.s))
      assert.error_matches(function() ffi.copy(x.s, "abcd") end,
                           "length 5 out of range for a 4-byte destination", nil, true)
      assert.error_matches(function() ffi.fill(x.s, 5) end, "out of range", nil, true)
      assert.error_matches(function() ffi.string(x.s, 5) end, "out of range", nil, true)
      local y = ffi.new("struct { int n; char s[]; }")
      assert.error_matches(function() ffi.copy(y.s, "") end,
                           "length 1 out of range for a 0-byte destination", nil, true)
      assert.equal("", ffi.string(y.s, 0))
      -- the instance's own size for the record itself; a reference to it
      -- (read through a pointer) gets its type's size: the fixed part
      ffi.cdef "struct rb_vls { int n; char s[?]; };"
      local v = ffi.new("struct rb_vls", 4)
      assert.equal(8, ffi.sizeof(v))
      ffi.fill(v, 8, 0x41)
      assert.equal(("A"):rep(8), ffi.string(v, 8))
      local r = ffi.cast("struct rb_vls *", v)[0]
      ffi.fill(r, 4)
      assert.error_matches(function() ffi.fill(r, 5) end,
                           "length 5 out of range for a 4-byte destination", nil, true)
    end)

    it("arrays of an incomplete type have no size and no elements", function()
      assert.is_nil(ffi.sizeof("enum rb_nosuch2[3]"))
      assert.is_nil(ffi.sizeof("enum rb_nosuch2[?]", 3))
      assert.is_nil(ffi.sizeof("enum rb_nosuch2[3][2]"))
      assert.error_matches(function() ffi.new("enum rb_nosuch2[3]") end,
                           "size of C type is unknown or too large: 'enum rb_nosuch2[3]'", nil, true)
      assert.error_matches(function() ffi.new("enum rb_nosuch2[2][3]") end,
                           "size of C type is unknown or too large", nil, true)
      assert.error_matches(function() ffi.new("struct rb_nosuch3[2]") end,
                           "size of C type is unknown or too large", nil, true)
      assert.error_matches(function() ffi.typeof("enum rb_nosuch2[3]")() end,
                           "size of C type is unknown or too large", nil, true)
      assert.error_matches(function() ffi.cast("enum rb_nosuch2[3]", {}) end,
                           "cannot convert 'table' to 'enum rb_nosuch2[3]'", nil, true)
      local buf = ffi.new("int[8]")
      local p = ffi.cast("enum rb_nosuch2 (*)[3]", buf)
      assert.error_matches(function() return p[0] end, "size of the pointee is unknown", nil, true)
      -- the type completed later: arrays of it get their size
      ffi.cdef "enum rb_later { RB_A, RB_B };"
      assert.equal(12, ffi.sizeof("enum rb_later[3]"))
      local a = ffi.new("enum rb_later[3]", 1, 1, 1)
      assert.equal(1, a[2])
    end)

    it("a C++ reference is made only to something", function()
      assert.error_matches(function() ffi.new("int &") end,
                           "cannot create a NULL reference 'int &'", nil, true)
      assert.error_matches(function() ffi.new("int *&") end,
                           "cannot create a NULL reference 'int *&'", nil, true)
      assert.error_matches(function() ffi.cast("int &", ffi.cast("int *", 0)) end,
                           "cannot create a NULL reference 'int &'", nil, true)
      assert.error_matches(function() ffi.new("int &", nil) end, "cannot convert", nil, true)
      local a = ffi.new("int[1]", 42)
      local r = ffi.cast("int &", a)
      assert.equal(42, ffi.tonumber(ffi.new("int", r)))
      local r2 = ffi.new("int &", a)
      assert.equal(42, ffi.tonumber(ffi.new("int", r2)))
      -- a reference to an array has its array's extent
      local b = ffi.new("int[3]")
      local ra = ffi.cast("int (&)[3]", ffi.cast("int (*)[3]", b))
      ffi.fill(ra, 12)
      assert.error_matches(function() ffi.fill(ra, 13) end,
                           "length 13 out of range for a 12-byte destination", nil, true)
    end)

    it("a failing cast to an aggregate allocates nothing", function()
      local big = "char[268435456]"
      for _, v in ipairs { 0, 1.5, true, io.stdout, ffi.new("int"), ffi.new("char[4]"), ffi.new("int[3]") } do
        collectgarbage()
        local before = collectgarbage("count")
        local ok, err = pcall(ffi.cast, big, v)
        local grew = collectgarbage("count") - before
        assert.is_false(ok)
        assert.is_truthy(tostring(err):find("cannot convert", 1, true), err)
        assert.is_true(grew < 1024, ("cast of %s allocated %.0f KB"):format(tostring(v), grew))
      end
      local s = ffi.typeof("struct { int a[1000000]; }")
      assert.error_matches(function() ffi.cast(s, ffi.new("struct { int a[1000000]; }")) end,
                           "cannot convert", nil, true)
      -- what converts still does
      assert.equal(3, ffi.cast("int[2]", ffi.new("int[2]", 3, 4))[0])
      assert.equal(5, ffi.cast("struct { int a; }", { 5 }).a)
      assert.equal("ab", ffi.string(ffi.cast("char[3]", "ab")))
    end)
  end)

  -- Follow-ups of the conversion, call and callback findings (cconv.c,
  -- ccall.c, ccallback.c).
  describe("follow-ups: conversions, calls and callbacks", function()
    it("initialisers of a variable-length member stay inside it", function()
      local w = ffi.new("struct { int n; char s[?]; }", 4, { 3, "abcdefgh" })
      assert.equal("abcd", ffi.string(w.s, 4))
      local v = ffi.new("struct { int n; int s[?]; }", 3, { 3, { 1, 2, 3 } })
      assert.equal(3, v.s[2])
      assert.error_matches(function()
        ffi.new("struct { int n; int s[?]; }", 3, { 3, { 1, 2, 3, 4 } })
      end, "too many initializers for 'int[?]'", nil, true)
      -- assigned later: never more than the instance holds
      assert.error_matches(function() v.s = { 1, 2, 3, 4 } end,
                           "too many initializers for 'int[?]'", nil, true)
      local x = ffi.new("struct { int n; int s[]; }")
      assert.error_matches(function() x.s = { 1 } end,
                           "too many initializers for 'int[]'", nil, true)
      x.s = {}                         -- nothing to write
    end)

    it("a closed io file is refused, an open one passes its FILE *", function()
      ffi.cdef "typedef struct _IO_FILE FILE; int fflush(FILE *f);"
      local name = os.tmpname()
      local f = assert(io.open(name, "w"))
      f:write("x")
      assert.equal(0, ffi.C.fflush(f))
      f:close()
      assert.error_matches(function() ffi.C.fflush(f) end,
                           "bad argument #1 to 'fflush' (attempt to use a closed file)", nil, true)
      assert.error_matches(function() ffi.cast("void *", f) end,
                           "attempt to use a closed file", nil, true)
      os.remove(name)
    end)

    it("a function of a closed library converts to nothing", function()
      ffi.cdef "int tl_add1(int x); void cbt_store(int (*f)(int)); int cbt_call_stored(int x);"
      local keep = ffi.load(LIB)
      local lib = ffi.load(LIB)
      local f = lib.tl_add1
      assert.equal(6, ffi.cast("int (*)(int)", f)(5))   -- open: fine
      ffi.dlclose(lib)
      for _, fn in ipairs {
        function() return ffi.cast("int (*)(int)", f) end,
        function() return ffi.cast("intptr_t", f) end,
        function() return ffi.new("int (*)(int)", f) end,
        function() return ffi.new("struct { int (*f)(int); }", { f }) end,
        function() return keep.cbt_store(f) end,      -- as a callback argument
      } do
        assert.error_matches(fn, "library './spec/lib/libcffitest.so' has been closed", nil, true)
      end
      -- ffi.C's functions have no library to close
      ffi.cdef "int abs(int);"
      assert.equal(3, ffi.cast("int (*)(int)", ffi.C.abs)(-3))
      keep.cbt_store(nil)
    end)

    it("table initialisers may nest, not without limit", function()
      ffi.cdef "typedef struct { int v; } RB_N0;"
      for i = 1, 300 do
        ffi.cdef(("typedef struct { RB_N%d a; } RB_N%d;"):format(i - 1, i))
      end
      local function nest(n)
        local t = { v = 7 }
        for _ = 1, n do t = { a = t } end
        return t
      end
      local x = ffi.new("RB_N150", nest(150))
      assert.equal(7, ffi.cast("int *", x)[0])
      assert.error_matches(function() ffi.new("RB_N300", nest(300)) end,
                           "initializer nested too deeply", nil, true)
      local p = ffi.new("RB_N300 *", ffi.new("RB_N300"))
      assert.error_matches(function() p[0] = nest(300) end,
                           "initializer nested too deeply", nil, true)
    end)

    it("a stale callback pointer never reaches a callback of another type", function()
      ffi.cdef "void cbt_store(int (*f)(int)); int cbt_call_stored(int x);"
      local lib = ffi.load(LIB)
      local cb = ffi.cast("int (*)(int)", function(x) return x end)
      lib.cbt_store(cb)
      cb:free()
      for _ = 1, 60 do                 -- plenty of freed closures of another type
        ffi.cast("double (*)(double, double)", function(a) return a end):free()
      end
      local live = {}
      for i = 1, 10 do live[i] = ffi.cast("double (*)(double)", function(a) return a end) end
      assert.error_matches(function() lib.cbt_call_stored(7) end,
                           "called a freed callback", nil, true)
      for i = 1, 10 do live[i]:free() end
      lib.cbt_store(nil)
    end)

    it("large records by value are described as one block", function()
      for _, n in ipairs { 17, 40, 100, 4096, 65536 } do
        local T = ffi.typeof(("struct { unsigned char c; unsigned char a[%d]; }"):format(n - 1))
        local cb = ffi.cast(ffi.typeof("$ (*)(int, $, double)", T, T), function(i, s, d)
          local r = ffi.new(T)
          ffi.copy(r, s, n)
          r.a[n - 2] = s.a[n - 2] + i
          r.c = s.c + d
          return r
        end)
        for _, slow in ipairs { false, true } do
          local old = ffi._slowpath(slow)
          local v = ffi.new(T)
          for k = 0, n - 2 do v.a[k] = k % 251 end
          v.c = 3
          local r = cb(1, v, 2)
          ffi._slowpath(old)
          assert.equal(5, r.c)
          assert.equal((n - 2) % 251 + 1, r.a[n - 2])
          assert.equal(ffi.string(v.a, n - 2), ffi.string(r.a, n - 2))
        end
        cb:free()
      end
      local t0 = os.clock()
      assert.error_matches(function()
        ffi.cast("int (*)(struct { char a[1 << 26]; })", function() return 1 end)
      end, "by value (larger than 65536 bytes)", nil, true)
      assert.is_true(os.clock() - t0 < 1)
      ffi.cdef "struct rb_al32 { int x; } __attribute__((aligned(32)));"
      assert.error_matches(function()
        ffi.cast("int (*)(struct rb_al32)", function() return 1 end)
      end, "cannot pass or return 'struct rb_al32' by value (aligned to more than 16 bytes)", nil, true)
    end)

    it("a record nested without limit is refused by value", function()
      ffi.cdef "typedef struct { float v; } RB_Q0;"
      for i = 1, 250 do
        ffi.cdef(("typedef struct { RB_Q%d a; } RB_Q%d;"):format(i - 1, i))
      end
      local cb = ffi.cast("RB_Q100 (*)(RB_Q100)", function(s) return s end)
      local v = ffi.new("RB_Q100")
      ffi.cast("float *", v)[0] = 1.5
      assert.equal(1.5, ffi.cast("float *", cb(v))[0])
      cb:free()
      assert.error_matches(function()
        ffi.cast("RB_Q250 (*)(RB_Q250)", function(s) return s end)
      end, "by value (nested too deeply)", nil, true)
    end)
  end)
end)
