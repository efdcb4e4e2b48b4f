-- `require "ffi"` on PUC Lua: LuaJIT code that loads the built-in ffi module
-- gets cffi.  Put lua/ on package.path (or install this file as ffi.lua).
return require "cffi"
