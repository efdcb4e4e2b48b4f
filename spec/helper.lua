-- Loaded by busted before the specs: find the freshly built module first.
-- CFFI_CPATH picks another build (make asan uses build/asan/?.so).
local cpath = os.getenv("CFFI_CPATH") or "./?.so"
package.cpath = cpath .. ";" .. package.cpath
package.path = "./lua/?.lua;./spec/?.lua;" .. package.path
