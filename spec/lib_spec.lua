-- Libraries: ffi.load (names, flags, errors), ffi.C, lazy namespaces,
-- globals, constants, pairs, __asm__ redirection, ffi.dlclose, and real
-- system libraries (libm, libc, zlib).
local ffi = require "cffi"
local support = require "support"

local LIBPATH = "./spec/lib/libcffitest.so"

ffi.cdef [[
typedef struct tl_point { int x, y; } tl_point;
enum tl_color { TL_RED, TL_GREEN = 5, TL_BLUE };
static const int TL_ANSWER = 42;
#define TL_FLAG 0x10

int tl_add(int, int);
int tl_add1(int);
int tl_forty_two(void);
int tl_is_add1(int (*f)(int));
int tl_does_not_exist(int x);

extern int tl_global_int;
extern double tl_global_double;
extern float tl_global_float;
extern int64_t tl_global_i64;
extern uint8_t tl_global_u8;
extern bool tl_global_bool;
extern const int tl_global_const;
extern int tl_global_array[8];
extern tl_point tl_global_point;
extern int *tl_global_nullptr;
extern int *tl_global_ptr;
extern const char *tl_global_string;
extern char tl_global_buf[32];
extern enum tl_color tl_global_color;
extern int tl_global_missing_var;

int tl_get_global_int(void);
double tl_get_global_double(void);
int tl_global_array_sum(void);
int tl_global_point_x(void);
int tl_global_point_y(void);
int tl_global_nullptr_is_null(void);
int tl_global_ptr_value(void);
const char *tl_global_buf_get(void);
void tl_reset_globals(void);

int my_alias(int) __asm__("tl_add1");
extern int my_global_alias __asm__("tl_global_alias_target");

size_t strlen(const char *s);
char *getenv(const char *name);
int snprintf(char *buf, size_t n, const char *fmt, ...);
double sin(double x);
double pow(double x, double y);
const char *lua_typename(void *L, int t);
]]

local lib = ffi.load(LIBPATH)

local raises, run_lua = support.raises, support.run_lua
local readfile, writefile = support.readfile, support.writefile

-- A private temporary directory for copies and libraries built by cc.
local tmpdir = os.tmpname()
os.remove(tmpdir)
assert(os.execute("mkdir -p '" .. tmpdir .. "'"))

local has_cc = os.execute("cc --version >/dev/null 2>&1") == true

local ncopy = 0
-- A private copy of the test library: closing it cannot disturb `lib`.
local function libcopy()
  ncopy = ncopy + 1
  local path = ("%s/libcopy%d.so"):format(tmpdir, ncopy)
  writefile(path, readfile(LIBPATH))
  return path
end

-- Compile C source into tmpdir/name.so; nil when there is no compiler.
local function build(name, src)
  if not has_cc then return nil end
  local c = tmpdir .. "/" .. name .. ".c"
  local so = tmpdir .. "/" .. name .. ".so"
  writefile(c, src)
  local ok = os.execute(("cc -shared -fPIC -o '%s' '%s' 2>/dev/null"):format(so, c))
  return ok and so or nil
end

teardown(function()
  os.execute("rm -rf '" .. tmpdir .. "'")
end)

describe("ffi.load", function()
  it("loads a library by relative path", function()
    local l = ffi.load(LIBPATH)
    assert.equal(3, l.tl_add(1, 2))
  end)

  it("loads a library by absolute path", function()
    local cwd = io.popen("pwd"):read("l")
    local l = ffi.load(cwd .. "/spec/lib/libcffitest.so")
    assert.equal(42, l.tl_forty_two())
  end)

  it("loads by a short name: m", function()
    local m = ffi.load("m")
    assert.equal(1024, m.pow(2, 10))
  end)

  it("loads by a short name: z", function()
    ffi.cdef "const char *zlibVersion(void);"
    local z = ffi.load("z")
    assert.matches("^%d+%.%d+", ffi.string(z.zlibVersion()))
  end)

  it("loads by a short name: c (libc.so is a GNU ld script)", function()
    local c = ffi.load("c")
    assert.equal(3, c.strlen("abc"))
  end)

  it("loads by a short name that only has versioned files (libX.so.N)", function()
    -- pick a harmless library the loader cache lists only with a version
    local p = io.popen("ldconfig -p 2>/dev/null")
    local cache = p and p:read("a") or ""
    if p then p:close() end
    local pick
    for _, n in ipairs({ "Xinerama", "Xmuu", "Xrandr", "Xi", "Xtst", "Xau",
                         "Xdmcp", "uuid", "expat", "bz2", "lzma", "tinfo" }) do
      local lib_ = "lib" .. n
      if cache:find("\t" .. lib_ .. ".so.%d") and
         not cache:find("\t" .. lib_ .. ".so ", 1, true) then
        pick = n
        break
      end
    end
    if not pick then return pending("no library with only versioned names") end
    assert.is_not_nil(ffi.load(pick))
  end)

  it("loads by a full soname", function()
    local m = ffi.load("libm.so.6")
    assert.equal(0, m.sin(0))
  end)

  it("accepts a boolean second argument", function()
    assert.equal(3, ffi.load(LIBPATH, false).tl_add(1, 2))
    -- libm is global already: loading it global changes nothing else
    assert.equal(1024, ffi.load("m", true).pow(2, 10))
  end)

  it("accepts numeric flags", function()
    local l = ffi.load(LIBPATH, ffi.RTLD_NOW + ffi.RTLD_LOCAL)
    assert.equal(3, l.tl_add(1, 2))
    l = ffi.load(LIBPATH, ffi.RTLD_LAZY)
    assert.equal(3, l.tl_add(1, 2))
  end)

  it("exports the RTLD_* flags with the platform's values", function()
    assert.equal(1, ffi.RTLD_LAZY)
    assert.equal(2, ffi.RTLD_NOW)
    assert.equal(0x100, ffi.RTLD_GLOBAL)
    assert.equal(0, ffi.RTLD_LOCAL)
    assert.equal(0x1000, ffi.RTLD_NODELETE)
    assert.equal(4, ffi.RTLD_NOLOAD)
    assert.equal(8, ffi.RTLD_DEEPBIND)
  end)

  it("RTLD_NOLOAD finds an already loaded library", function()
    local l = ffi.load(LIBPATH, ffi.RTLD_NOLOAD + ffi.RTLD_LAZY)
    assert.equal(3, l.tl_add(1, 2))
  end)

  it("RTLD_NOLOAD fails for a library not loaded yet", function()
    local path = libcopy()
    raises(function() ffi.load(path, ffi.RTLD_NOLOAD + ffi.RTLD_LAZY) end, path)
  end)

  it("a missing library names the library and the paths tried", function()
    local err = raises(function() ffi.load("cffi_no_such_lib") end,
      "cffi_no_such_lib", "libcffi_no_such_lib.so")
    assert.is_true(#err > #"cffi_no_such_lib")
  end)

  it("a missing path gives dlerror's text", function()
    raises(function() ffi.load("/nonexistent/dir/libx.so") end,
      "/nonexistent/dir/libx.so", "No such file or directory")
  end)

  it("a file that is not a library is an error", function()
    raises(function() ffi.load("./spec/lib/cffitest.c") end,
      "./spec/lib/cffitest.c")
  end)

  it("a missing name argument is an error", function()
    raises(function() ffi.load() end, "bad argument #1")
  end)

  it("a table as name is an error", function()
    raises(function() ffi.load({}) end, "bad argument #1")
  end)

  it("a fractional number as flags is an error", function()
    raises(function() ffi.load(LIBPATH, 3.5) end, "bad argument #2")
  end)

  it("a string as flags is an error", function()
    raises(function() ffi.load(LIBPATH, "now") end, "bad argument #2")
  end)
end)

describe("dlopen flags on libraries built for the spec", function()
  local undef_src = [[
    extern int cffi_spec_undefined_xyz(void);
    int cffi_spec_uses_undef(void) { return cffi_spec_undefined_xyz(); }
    int cffi_spec_defined(void) { return 5; }
  ]]
  local undef
  local n = 0
  -- A fresh copy of the library with an unresolved symbol per load, so that
  -- one load never sees another's handle.
  local function undefcopy()
    n = n + 1
    local path = ("%s/libundef%d.so"):format(tmpdir, n)
    writefile(path, readfile(undef))
    return path
  end

  setup(function()
    undef = build("libundef", undef_src)
    ffi.cdef [[
      int cffi_spec_defined(void);
      int cffi_probe_local(void);
      int cffi_probe_global(void);
      int cffi_probe_numeric(void);
    ]]
  end)

  it("RTLD_NOW fails on an unresolved symbol with the loader's message", function()
    if not undef then return pending("no C compiler") end
    local path = undefcopy()
    raises(function() ffi.load(path, ffi.RTLD_NOW) end,
      "undefined symbol: cffi_spec_undefined_xyz")
  end)

  it("numeric flags without LAZY or NOW bind now", function()
    if not undef then return pending("no C compiler") end
    local path = undefcopy()
    raises(function() ffi.load(path, ffi.RTLD_LOCAL) end,
      "cffi_spec_undefined_xyz")
  end)

  it("the default binding is lazy", function()
    if not undef then return pending("no C compiler") end
    local l = ffi.load(undefcopy())
    assert.equal(5, l.cffi_spec_defined())
  end)

  it("the boolean form binds lazily", function()
    if not undef then return pending("no C compiler") end
    local l = ffi.load(undefcopy(), false)
    assert.equal(5, l.cffi_spec_defined())
  end)

  it("explicit RTLD_LAZY loads", function()
    if not undef then return pending("no C compiler") end
    local l = ffi.load(undefcopy(), ffi.RTLD_LAZY)
    assert.equal(5, l.cffi_spec_defined())
  end)

  it("a library loaded locally is not visible through ffi.C", function()
    local path = build("libprobelocal", "int cffi_probe_local(void) { return 22; }")
    if not path then return pending("no C compiler") end
    local l = ffi.load(path)
    assert.equal(22, l.cffi_probe_local())
    raises(function() return ffi.C.cffi_probe_local end,
      "symbol 'cffi_probe_local' not found")
  end)

  it("ffi.load(name, true) makes the symbols global (visible in ffi.C)", function()
    local path = build("libprobeglobal", "int cffi_probe_global(void) { return 11; }")
    if not path then return pending("no C compiler") end
    raises(function() return ffi.C.cffi_probe_global end,
      "symbol 'cffi_probe_global' not found")
    ffi.load(path, true)
    assert.equal(11, ffi.C.cffi_probe_global())
  end)

  it("numeric RTLD_GLOBAL makes the symbols global", function()
    local path = build("libprobenum", "int cffi_probe_numeric(void) { return 33; }")
    if not path then return pending("no C compiler") end
    ffi.load(path, ffi.RTLD_NOW + ffi.RTLD_GLOBAL)
    assert.equal(33, ffi.C.cffi_probe_numeric())
  end)
end)

describe("ffi.C", function()
  it("calls libc", function()
    assert.equal(4, ffi.C.strlen("abcd"))
  end)

  it("reaches libm (linked into the interpreter)", function()
    assert.equal(0, ffi.C.sin(0))
  end)

  it("reaches the host program's exported symbols", function()
    assert.equal("number", ffi.string(ffi.C.lua_typename(nil, 3)))
  end)

  it("is the same namespace every time", function()
    assert.equal(ffi.C, ffi.C)
    assert.equal(ffi.C.strlen, ffi.C.strlen)
  end)

  it("an undeclared name is an error", function()
    raises(function() return ffi.C.cffi_nothing_declared_here end,
      "'cffi_nothing_declared_here' is not declared")
  end)

  it("cannot be closed, and survives the attempt", function()
    raises(function() ffi.dlclose(ffi.C) end, "cannot be closed")
    assert.equal(2, ffi.C.strlen("ab"))
  end)
end)

describe("namespaces", function()
  it("resolve symbols lazily: a declared missing symbol fails only on use", function()
    local l = ffi.load(LIBPATH)
    assert.equal(3, l.tl_add(1, 2))
    raises(function() return l.tl_does_not_exist end,
      "symbol 'tl_does_not_exist' not found in library '" .. LIBPATH .. "'")
  end)

  it("a missing variable symbol fails on read and write", function()
    raises(function() return lib.tl_global_missing_var end,
      "symbol 'tl_global_missing_var' not found in library")
    raises(function() lib.tl_global_missing_var = 1 end,
      "symbol 'tl_global_missing_var' not found in library")
  end)

  it("a failed lookup does not break later ones", function()
    pcall(function() return lib.tl_does_not_exist end)
    assert.equal(3, lib.tl_add(1, 2))
    pcall(function() return lib.tl_does_not_exist end)
    assert.equal(2, lib.tl_add1(1))
  end)

  it("an undeclared name is an error", function()
    raises(function() return lib.tl_never_declared end,
      "'tl_never_declared' is not declared")
  end)

  it("assigning an undeclared name is an error", function()
    raises(function() lib.tl_never_declared = 1 end,
      "'tl_never_declared' is not declared")
  end)

  it("declarations made after the load are visible", function()
    local l = ffi.load(LIBPATH)
    raises(function() return l.tl_late end, "'tl_late' is not declared")
    ffi.cdef "int tl_late(int x);"
    assert.equal(200, l.tl_late(2))
    assert.equal(300, lib.tl_late(3))
  end)

  -- A namespace is a plain table caching functions and constants with
  -- rawset on first read (DESIGN.md), so only a name not read yet reaches
  -- __newindex.  A fresh namespace keeps these specs independent of what
  -- other specs have read through `lib`, and keeps `lib` unchanged.
  it("assigning to a function before it is read is an error", function()
    local l = ffi.load(LIBPATH)
    local err = raises(function() l.tl_forty_two = 1 end,
      "attempt to write to constant location")
    assert.matches("^[^:]+:%d+: attempt to write to constant location$", err)
    assert.equal(42, l.tl_forty_two())
  end)

  it("assigning to a function already read replaces only this namespace's entry", function()
    local l = ffi.load(LIBPATH)
    local f = l.tl_add
    l.tl_add = 1
    assert.equal(1, l.tl_add)
    assert.equal(3, f(1, 2))
    assert.equal(3, lib.tl_add(1, 2))
    assert.equal(3, ffi.load(LIBPATH).tl_add(1, 2))
  end)

  it("__asm__ redirects a function to another symbol", function()
    assert.equal(5, lib.my_alias(4))
    assert.equal(1, lib.tl_is_add1(ffi.addressof(lib, "my_alias")))
  end)

  it("__asm__ redirects a variable to another symbol", function()
    assert.equal(1234, lib.my_global_alias)
  end)
end)

describe("global variables", function()
  before_each(function() lib.tl_reset_globals() end)

  it("reads an int", function()
    assert.equal(42, lib.tl_global_int)
    assert.equal("integer", math.type(lib.tl_global_int))
  end)

  it("writes an int into the library's memory", function()
    lib.tl_global_int = 5
    assert.equal(5, lib.tl_get_global_int())
    assert.equal(5, lib.tl_global_int)
  end)

  it("sees writes made by C", function()
    lib.tl_global_int = 9
    lib.tl_reset_globals()
    assert.equal(42, lib.tl_global_int)
  end)

  it("reads and writes a double", function()
    assert.equal(3.5, lib.tl_global_double)
    lib.tl_global_double = 0.25
    assert.equal(0.25, lib.tl_get_global_double())
  end)

  it("reads a float", function()
    assert.equal(1.25, lib.tl_global_float)
  end)

  it("reads and writes an int64_t", function()
    assert.equal(1 << 40, lib.tl_global_i64)
    lib.tl_global_i64 = math.mininteger
    assert.equal(math.mininteger, lib.tl_global_i64)
  end)

  it("writes a uint8_t with C's wrap-around", function()
    assert.equal(200, lib.tl_global_u8)
    lib.tl_global_u8 = 300
    assert.equal(44, lib.tl_global_u8)
  end)

  it("reads and writes a bool", function()
    assert.equal(true, lib.tl_global_bool)
    lib.tl_global_bool = false
    assert.equal(false, lib.tl_global_bool)
  end)

  it("reads and writes an enum", function()
    assert.equal(5, lib.tl_global_color)
    lib.tl_global_color = "TL_BLUE"
    assert.equal(6, lib.tl_global_color)
  end)

  it("a value of the wrong type is an error", function()
    raises(function() lib.tl_global_int = "x" end,
      "cannot convert 'string' to 'int'")
  end)

  it("reads a const int", function()
    assert.equal(7, lib.tl_global_const)
  end)

  it("writing a const variable is an error", function()
    raises(function() lib.tl_global_const = 8 end,
      "attempt to write to constant location")
    assert.equal(7, lib.tl_global_const)
  end)

  it("an array is a reference into the library", function()
    local a = lib.tl_global_array
    assert.is_true(ffi.istype("int[8]", a))
    assert.equal(32, ffi.sizeof(a))
    assert.equal(1, a[0])
    assert.equal(8, a[7])
    a[2] = 99
    assert.equal(36 - 3 + 99, lib.tl_global_array_sum())
    assert.equal(99, lib.tl_global_array[2])
  end)

  it("an array reference sees writes made by C", function()
    local a = lib.tl_global_array
    a[0] = 50
    lib.tl_reset_globals()
    assert.equal(1, a[0])
  end)

  it("an array global is bounds-checked", function()
    raises(function() return lib.tl_global_array[8] end,
      "index 8 out of range for 'int[8]'")
  end)

  it("a struct is a reference into the library", function()
    assert.equal(10, lib.tl_global_point.x)
    lib.tl_global_point.y = 21
    assert.equal(21, lib.tl_global_point_y())
    local p = lib.tl_global_point
    p.x = 11
    assert.equal(11, lib.tl_global_point_x())
  end)

  it("a struct global can be assigned whole", function()
    lib.tl_global_point = ffi.new("tl_point", 1, 2)
    assert.equal(1, lib.tl_global_point_x())
    assert.equal(2, lib.tl_global_point_y())
  end)

  it("a struct global can be assigned from a table", function()
    lib.tl_global_point = { 3, 4 }
    assert.equal(3, lib.tl_global_point_x())
    assert.equal(4, lib.tl_global_point_y())
  end)

  it("a missing member of a struct global is an error", function()
    raises(function() return lib.tl_global_point.z end,
      "'struct tl_point' has no member named 'z'")
  end)

  it("a NULL pointer global reads as nil", function()
    assert.is_nil(lib.tl_global_nullptr)
  end)

  it("a pointer global reads as a pointer cdata", function()
    local p = lib.tl_global_ptr
    assert.is_true(ffi.istype("int *", p))
    assert.equal(42, p[0])
    p[0] = 43
    assert.equal(43, lib.tl_global_int)
  end)

  it("a pointer global can be assigned a pointer and nil", function()
    lib.tl_global_nullptr = lib.tl_global_ptr
    assert.equal(0, lib.tl_global_nullptr_is_null())
    lib.tl_global_nullptr = nil
    assert.equal(1, lib.tl_global_nullptr_is_null())
  end)

  it("a char * global", function()
    assert.equal("hello from C", ffi.string(lib.tl_global_string))
  end)

  it("a char array global", function()
    assert.equal("buffer", ffi.string(lib.tl_global_buf))
    ffi.copy(lib.tl_global_buf, "changed")
    assert.equal("changed", ffi.string(lib.tl_global_buf_get()))
  end)

  it("ffi.addressof(lib, var) points at the variable", function()
    local p = ffi.addressof(lib, "tl_global_int")
    assert.is_true(ffi.istype("int *", p))
    assert.equal(42, p[0])
    p[0] = 77
    assert.equal(77, lib.tl_global_int)
  end)

  it("ffi.addressof(lib, const var) is a pointer to const", function()
    local p = ffi.addressof(lib, "tl_global_const")
    assert.equal(7, p[0])
    raises(function() p[0] = 1 end, "attempt to write to constant location")
  end)

  it("ffi.addressof of an array global points at its first element", function()
    local p = ffi.addressof(lib, "tl_global_array")
    assert.equal(ffi.cast("void *", lib.tl_global_array), ffi.cast("void *", p))
  end)

  it("a struct global has the struct's type and size", function()
    assert.equal(ffi.typeof("tl_point"), ffi.typeof(lib.tl_global_point))
    assert.equal(8, ffi.sizeof(lib.tl_global_point))
  end)

  it("ffi.addressof of a struct global", function()
    local p = ffi.addressof(lib, "tl_global_point")
    assert.is_true(ffi.istype("tl_point *", p))
    assert.equal(10, p.x)
    p.x = 12
    assert.equal(12, lib.tl_global_point_x())
  end)

  it("a pointer global rejects a pointer of another type", function()
    raises(function() lib.tl_global_ptr = ffi.new("double[1]") end,
      "cannot convert 'cdata<double[1]>' to 'int *'")
  end)

  it("ffi.addressof without a name is an error", function()
    raises(function() ffi.addressof(lib) end, "bad argument #2", "got no value")
  end)

  it("ffi.addressof of a non-library is an error", function()
    raises(function() ffi.addressof({}, "x") end, "bad argument #1")
  end)

  it("ffi.addressof of an undeclared name is an error", function()
    raises(function() ffi.addressof(lib, "tl_never_declared") end,
      "'tl_never_declared' is not declared")
  end)

  it("ffi.addressof of a missing symbol is an error", function()
    raises(function() ffi.addressof(lib, "tl_does_not_exist") end,
      "symbol 'tl_does_not_exist' not found")
  end)

  it("ffi.addressof of a constant is an error", function()
    raises(function() ffi.addressof(lib, "TL_ANSWER") end, "TL_ANSWER")
  end)
end)

describe("constants", function()
  it("enum constants through a library", function()
    assert.equal(0, lib.TL_RED)
    assert.equal(5, lib.TL_GREEN)
    assert.equal(6, lib.TL_BLUE)
    assert.equal("integer", math.type(lib.TL_BLUE))
  end)

  it("enum constants through ffi.C", function()
    assert.equal(6, ffi.C.TL_BLUE)
  end)

  it("static const through a library and ffi.C", function()
    assert.equal(42, lib.TL_ANSWER)
    assert.equal(42, ffi.C.TL_ANSWER)
  end)

  it("#define through a library and ffi.C", function()
    assert.equal(16, lib.TL_FLAG)
    assert.equal(16, ffi.C.TL_FLAG)
  end)

  it("constants are readable through any namespace", function()
    local m = ffi.load("m")
    assert.equal(42, m.TL_ANSWER)
    assert.equal(5, m.TL_GREEN)
  end)

  it("assigning a constant before it is read is an error", function()
    local l = ffi.load(LIBPATH)
    for _, name in ipairs({ "TL_ANSWER", "TL_GREEN", "TL_FLAG" }) do
      local err = raises(function() l[name] = 1 end,
        "attempt to write to constant location")
      assert.matches("^[^:]+:%d+: attempt to write to constant location$", err)
    end
    assert.equal(42, l.TL_ANSWER)
    assert.equal(5, l.TL_GREEN)
    assert.equal(16, l.TL_FLAG)
  end)

  it("assigning a constant already read replaces only this namespace's entry", function()
    local l = ffi.load(LIBPATH)
    assert.equal(42, l.TL_ANSWER)
    l.TL_ANSWER = 1
    assert.equal(1, l.TL_ANSWER)
    assert.equal(42, lib.TL_ANSWER)
    assert.equal(42, ffi.C.TL_ANSWER)
    assert.equal(42, ffi.load(LIBPATH).TL_ANSWER)
    assert.equal(42, ffi.sizeof("char[TL_ANSWER]"))
  end)
end)

describe("pairs over a namespace", function()
  local function names(ns)
    local list, values = {}, {}
    for k, v in pairs(ns) do
      list[#list + 1] = k
      values[k] = v
    end
    return list, values
  end

  it("lists names in sorted order", function()
    local list = names(lib)
    assert.is_true(#list > 10)
    for i = 2, #list do
      assert.is_true(list[i - 1] < list[i], list[i - 1] .. " before " .. list[i])
    end
  end)

  it("lists declared functions and variables", function()
    local _, values = names(lib)
    assert.is_not_nil(values.tl_add)
    assert.is_not_nil(values.tl_global_int)
  end)

  it("does not list undeclared symbols", function()
    local _, values = names(lib)
    assert.is_nil(values.tl_never_declared)
  end)

  it("does not list declared names the library cannot resolve", function()
    local _, values = names(lib)
    assert.is_nil(values.tl_does_not_exist)
  end)

  it("gives the same values as indexing", function()
    local _, values = names(lib)
    assert.equal(lib.tl_add, values.tl_add)
    assert.equal(3, values.tl_add(1, 2))
    assert.equal(lib.tl_global_int, values.tl_global_int)
  end)
end)

describe("ffi.dlclose", function()
  it("closes a library; later access is an error", function()
    local path = libcopy()
    local l = ffi.load(path)
    assert.equal(3, l.tl_add(1, 2))
    ffi.dlclose(l)
    raises(function() return l.tl_add end,
      "library '" .. path .. "' has been closed")
  end)

  it("a function fetched before the close raises when called", function()
    local path = libcopy()
    local l = ffi.load(path)
    local f = l.tl_add
    ffi.dlclose(l)
    raises(function() f(1, 2) end, "library '" .. path .. "' has been closed")
  end)

  it("reading and writing a variable after the close is an error", function()
    local path = libcopy()
    local l = ffi.load(path)
    assert.equal(42, l.tl_global_int)
    ffi.dlclose(l)
    raises(function() return l.tl_global_int end, "has been closed")
    raises(function() l.tl_global_int = 1 end, "has been closed")
  end)

  it("ffi.addressof after the close is an error", function()
    local l = ffi.load(libcopy())
    ffi.dlclose(l)
    raises(function() ffi.addressof(l, "tl_add") end, "has been closed")
  end)

  it("pairs over a closed library is an error", function()
    local l = ffi.load(libcopy())
    ffi.dlclose(l)
    raises(function() for _ in pairs(l) do end end, "has been closed")
  end)

  it("closing twice is an error", function()
    local path = libcopy()
    local l = ffi.load(path)
    ffi.dlclose(l)
    raises(function() ffi.dlclose(l) end, "library '" .. path .. "' has been closed")
  end)

  it("closing one handle leaves others to the same library working", function()
    local path = libcopy()
    local l1 = ffi.load(path)
    local l2 = ffi.load(path)
    local f2 = l2.tl_add
    ffi.dlclose(l1)
    assert.equal(3, f2(1, 2))
    assert.equal(42, l2.tl_forty_two())
  end)

  it("a non-library argument is an error", function()
    raises(function() ffi.dlclose({}) end, "bad argument #1")
    raises(function() ffi.dlclose() end, "bad argument #1")
  end)
end)

describe("library lifetime (in a separate interpreter)", function()
  it("a function keeps its library open after the namespace is collected", function()
    local out, ok = run_lua(([[
      local ffi = require "cffi"
      ffi.cdef "int tl_add(int, int);"
      local f = ffi.load(%q).tl_add
      collectgarbage() collectgarbage()
      print("result", f(2, 3))
    ]]):format(libcopy()))
    assert.is_true(ok, out)
    assert.matches("result\t5", out, 1, true)
  end)

  it("a global reference keeps its library open", function()
    local out, ok = run_lua(([[
      local ffi = require "cffi"
      ffi.cdef "extern int tl_global_array[8];"
      local a = ffi.load(%q).tl_global_array
      collectgarbage() collectgarbage()
      print("value", a[7])
    ]]):format(libcopy()))
    assert.is_true(ok, out)
    assert.matches("value\t8", out, 1, true)
  end)

  it("a collected namespace closes its library once, also at exit", function()
    local out, ok = run_lua(([[
      local ffi = require "cffi"
      ffi.cdef "int tl_add(int, int);"
      for i = 1, 50 do assert(ffi.load(%q).tl_add(i, 1) == i + 1) end
      collectgarbage() collectgarbage()
      print("done")
    ]]):format(libcopy()))
    assert.is_true(ok, out)
    assert.matches("done", out, 1, true)
  end)
end)

describe("real system libraries", function()
  it("libm sin and pow", function()
    local m = ffi.load("m")
    assert.equal(0, m.sin(0))
    assert.is_true(math.abs(m.sin(math.pi / 2) - 1) < 1e-15)
    assert.equal(1024, m.pow(2, 10))
    assert.equal(0.5, m.pow(2, -1))
  end)

  it("libc strlen", function()
    assert.equal(11, ffi.C.strlen("hello world"))
  end)

  it("libc getenv", function()
    local home = os.getenv("HOME")
    if home then
      assert.equal(home, ffi.string(ffi.C.getenv("HOME")))
    end
    assert.equal(os.getenv("PATH"), ffi.string(ffi.C.getenv("PATH")))
  end)

  it("libc getenv of an unset variable is nil", function()
    assert.is_nil(ffi.C.getenv("CFFI_SURELY_UNSET_VARIABLE_1234"))
  end)

  it("libc snprintf", function()
    local buf = ffi.new("char[64]")
    local n = ffi.C.snprintf(buf, 64, "%s-%d-%.1f", "a", 7, 2.5)
    assert.equal("a-7-2.5", ffi.string(buf))
    assert.equal(7, n)
  end)

  describe("zlib", function()
    local z
    setup(function()
      ffi.cdef [[
        unsigned long compressBound(unsigned long sourceLen);
        int compress(uint8_t *dest, unsigned long *destLen,
                     const uint8_t *source, unsigned long sourceLen);
        int compress2(uint8_t *dest, unsigned long *destLen,
                      const uint8_t *source, unsigned long sourceLen, int level);
        int uncompress(uint8_t *dest, unsigned long *destLen,
                       const uint8_t *source, unsigned long sourceLen);
        const char *zlibVersion(void);
      ]]
      z = ffi.load("z")
    end)

    local function compress(s, level)
      local n = z.compressBound(#s)
      local buf = ffi.new("uint8_t[?]", n)
      local len = ffi.new("unsigned long[1]", n)
      local rc
      if level then
        rc = z.compress2(buf, len, s, #s, level)
      else
        rc = z.compress(buf, len, s, #s)
      end
      assert.equal(0, rc)
      return ffi.string(buf, len[0])
    end

    local function uncompress(c, n)
      local buf = ffi.new("uint8_t[?]", n)
      local len = ffi.new("unsigned long[1]", n)
      local rc = z.uncompress(buf, len, c, #c)
      return rc, rc == 0 and ffi.string(buf, len[0]) or nil
    end

    it("zlibVersion", function()
      assert.matches("^1%.%d+", ffi.string(z.zlibVersion()))
    end)

    it("compress / uncompress round trip", function()
      local src = ("hello zlib, hello cffi. "):rep(200)
      local c = compress(src)
      assert.is_true(#c < #src / 10)
      local rc, out = uncompress(c, #src)
      assert.equal(0, rc)
      assert.equal(src, out)
    end)

    it("compress2 with a level, binary data with zeros", function()
      local t = {}
      for i = 0, 4095 do t[#t + 1] = string.char(i % 7 == 0 and 0 or i % 256) end
      local src = table.concat(t)
      local c = compress(src, 9)
      local rc, out = uncompress(c, #src)
      assert.equal(0, rc)
      assert.equal(src, out)
    end)

    it("a too small output buffer gives Z_BUF_ERROR", function()
      local src = ("x"):rep(1000)
      local rc = uncompress(compress(src), 10)
      assert.equal(-5, rc)
    end)

    it("garbage input gives Z_DATA_ERROR", function()
      local rc = uncompress("this is not zlib data", 100)
      assert.equal(-3, rc)
    end)
  end)
end)
