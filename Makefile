# cffi: a LuaJIT-compatible FFI for PUC Lua 5.4, on libffi.
LUA      ?= lua5.4
BUSTED   ?= busted --lua=$(LUA) $(BUSTED_FLAGS)
PKGS     := lua5.4 libffi
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null || echo -I/usr/include/lua5.4)
PKG_LIBS   := $(shell pkg-config --libs libffi 2>/dev/null || echo -lffi)

CC       ?= cc
OPT      ?= -O2
CFLAGS   ?= $(OPT)
ALL_CFLAGS := -std=c11 -Wall -Wextra -Werror -fPIC -fvisibility=hidden \
              -D_GNU_SOURCE $(PKG_CFLAGS) $(CFLAGS)
LIBS     := $(PKG_LIBS) -ldl -lm

SRC      := $(wildcard src/*.c)
OBJ      := $(SRC:src/%.c=build/obj/%.o)
ASAN_OBJ := $(SRC:src/%.c=build/asan/obj/%.o)
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
TESTLIB  := spec/lib/libcffitest.so
TESTSRC  := $(wildcard spec/lib/*.c)

.PHONY: all deps demo test asan valgrind bench clean rock
all: cffi.so libcffi.a

cffi.so: $(OBJ)
	$(CC) -shared -o $@ $(OBJ) $(LIBS)

libcffi.a: $(OBJ)
	rm -f $@ && ar rcs $@ $(OBJ)

build/obj/%.o: src/%.c $(wildcard src/*.h) | build/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/asan/obj/%.o: src/%.c $(wildcard src/*.h) | build/asan/obj
	$(CC) $(ALL_CFLAGS) -O1 -g $(SAN) -c -o $@ $<

build/asan/cffi.so: $(ASAN_OBJ)
	$(CC) -shared $(SAN) -o $@ $(ASAN_OBJ) $(LIBS)

build/obj build/asan/obj:
	mkdir -p $@

$(TESTLIB): $(TESTSRC) $(wildcard spec/lib/*.h)
	$(CC) -std=c11 -O1 -g -fPIC -shared -Wall -o $@ $(TESTSRC) -lm

deps:
	@sh scripts/deps.sh

demo: deps all
	$(LUA) examples/demo.lua

test: deps all $(TESTLIB)
	$(BUSTED) spec

# Specs under AddressSanitizer + UBSan: the interpreter gets libasan preloaded.
asan: deps all build/asan/cffi.so $(TESTLIB)
	LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	CFFI_CPATH=build/asan/?.so $(BUSTED) spec

valgrind: all $(TESTLIB)
	valgrind --keep-debuginfo=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	  --show-leak-kinds=definite --suppressions=scripts/valgrind.supp -q $(LUA) $$(command -v busted) $(BUSTED_FLAGS) spec

bench: all
	sh bench/run.sh

rock:
	luarocks make --local rockspec/cffi-scm-1.rockspec

clean:
	rm -rf build cffi.so libcffi.a $(TESTLIB)
