# mingw-w64-x86_64.cmake - CMake toolchain file that cross-builds hnsnetpol for
# 64-bit Windows (Windows Server 2022 nodes) with Debian's mingw-w64 GCC.
#
#     packaging/build-mingw-deps.sh            # once: toolchain, wine, deps prefix
#     cmake --preset mingw64 && cmake --build --preset mingw64
#     ctest --preset mingw64                   # test .exe files run under wine
#
# Dependencies (jansson, libyaml, cmocka, curl with Schannel, libmicrohttpd)
# are static libraries in a prefix that packaging/build-mingw-deps.sh fills:
# HNP_MINGW_PREFIX (a -D cache entry, else the environment variable, else
# /var/cache/hnsnetpol/mingw64). pkg-config is pointed at that prefix only,
# never at the host's .pc files, and asked for --static link lines.
#
# Every executable and DLL is linked with -static -static-libgcc: libgcc and
# winpthread are linked in, so the binaries need only DLLs that ship with
# Windows (KERNEL32, msvcrt, WS2_32, ADVAPI32, CRYPT32, ...).
#
# CMAKE_CROSSCOMPILING_EMULATOR runs the built programs under wine, so ctest,
# add_test(COMMAND <target>) and ${CMAKE_CROSSCOMPILING_EMULATOR} <program>
# work unchanged. wine runs with WINEDEBUG=-all and a cached prefix
# (WINEPREFIX from the environment at configure time, else
# /var/cache/hnsnetpol/wine64, which build-mingw-deps.sh initialises).

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_VERSION 10.0)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(HNP_MINGW_TRIPLET x86_64-w64-mingw32)

# try_compile() projects re-read this file in a fresh cache: hand them the prefix.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES HNP_MINGW_PREFIX)

if(NOT HNP_MINGW_PREFIX)
    if(DEFINED ENV{HNP_MINGW_PREFIX} AND NOT "$ENV{HNP_MINGW_PREFIX}" STREQUAL "")
        set(HNP_MINGW_PREFIX "$ENV{HNP_MINGW_PREFIX}")
    else()
        set(HNP_MINGW_PREFIX /var/cache/hnsnetpol/mingw64)
    endif()
endif()
set(HNP_MINGW_PREFIX "${HNP_MINGW_PREFIX}" CACHE PATH
    "Prefix holding the mingw-w64 builds of the dependencies (packaging/build-mingw-deps.sh)")

# --- compilers ---------------------------------------------------------------
# Debian ships two thread models of the same GCC: -win32 (the default
# alternative) and -posix. Use -posix where it exists: its libgcc uses
# winpthreads, matching the <pthread.h> the portable core includes, and it is
# what other distributions ship as plain x86_64-w64-mingw32-gcc.
find_program(HNP_MINGW_CC NAMES ${HNP_MINGW_TRIPLET}-gcc-posix ${HNP_MINGW_TRIPLET}-gcc)
if(NOT HNP_MINGW_CC)
    message(FATAL_ERROR "${HNP_MINGW_TRIPLET}-gcc not found: run packaging/build-mingw-deps.sh "
                        "(Debian: apt-get install gcc-mingw-w64-x86-64)")
endif()
set(CMAKE_C_COMPILER "${HNP_MINGW_CC}")
find_program(HNP_MINGW_CXX NAMES ${HNP_MINGW_TRIPLET}-g++-posix ${HNP_MINGW_TRIPLET}-g++)
if(HNP_MINGW_CXX)
    set(CMAKE_CXX_COMPILER "${HNP_MINGW_CXX}")
endif()
find_program(CMAKE_RC_COMPILER NAMES ${HNP_MINGW_TRIPLET}-windres)
find_program(CMAKE_AR NAMES ${HNP_MINGW_TRIPLET}-ar)
find_program(CMAKE_RANLIB NAMES ${HNP_MINGW_TRIPLET}-ranlib)

# mingw's own C99 printf family (%zu, %lld, %a) rather than msvcrt's. GCC
# then checks printf-like formats as gnu_printf, but only for the CRT's
# functions: the project's own printf-like declarations must use
# __MINGW_PRINTF_FORMAT there (plain `printf` means msvcrt's format on mingw).
set(CMAKE_C_FLAGS_INIT "-D__USE_MINGW_ANSI_STDIO=1")

# --- where libraries and headers come from -----------------------------------
set(CMAKE_FIND_ROOT_PATH "${HNP_MINGW_PREFIX}" /usr/${HNP_MINGW_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (the host's program) reads only the prefix's .pc files; --static
# adds Libs.private (ws2_32, crypt32, bcrypt, ...) that static libcurl and
# libmicrohttpd need. The environment is set again every time CMake re-runs.
set(ENV{PKG_CONFIG_LIBDIR} "${HNP_MINGW_PREFIX}/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
unset(ENV{PKG_CONFIG_SYSROOT_DIR})
set(PKG_CONFIG_ARGN --static)

# --- linking -------------------------------------------------------------------
# No libgcc_s_seh-1.dll or libwinpthread-1.dll beside the program: link them in.
# (msvcrt.dll and the Win32 API DLLs are part of every Windows installation.)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static -static-libgcc")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static -static-libgcc")

# --- running the Windows programs: wine -----------------------------------------
# Debian: /usr/bin/wine picks /usr/lib/wine/wine64 when no 32-bit wine is installed.
find_program(HNP_WINE NAMES wine wine64 wine-stable PATHS /usr/lib/wine NO_CMAKE_FIND_ROOT_PATH)
if(HNP_WINE)
    if(DEFINED ENV{WINEPREFIX} AND NOT "$ENV{WINEPREFIX}" STREQUAL "")
        set(HNP_WINEPREFIX "$ENV{WINEPREFIX}")
    else()
        set(HNP_WINEPREFIX /var/cache/hnsnetpol/wine64)
    endif()
    if(DEFINED ENV{WINEDEBUG})
        set(HNP_WINEDEBUG "$ENV{WINEDEBUG}")
    else()
        set(HNP_WINEDEBUG -all)
    endif()
    # A list: the first element is the program, the rest its leading arguments.
    # Mono and Gecko are disabled: they would be offered for download on a
    # prefix's first start, and hnsnetpol needs neither.
    set(CMAKE_CROSSCOMPILING_EMULATOR
        /usr/bin/env WINEPREFIX=${HNP_WINEPREFIX} WINEDEBUG=${HNP_WINEDEBUG}
        "WINEDLLOVERRIDES=mscoree,mshtml=" ${HNP_WINE})
else()
    message(WARNING "wine not found: the Windows test executables build but ctest cannot run "
                    "them (Debian: apt-get install wine wine64)")
endif()
