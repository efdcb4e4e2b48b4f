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
end)
