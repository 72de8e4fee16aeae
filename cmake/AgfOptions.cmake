# Compiler flags. Release builds use -O3; architecture-specific flags (-march=native) only when
# the user opts in with -DAGF_NATIVE_ARCH=ON (never for generic wheels).
option(AGF_NATIVE_ARCH "Compile with -march=native (local builds only)" OFF)
# Also build an AVX2+FMA variant of the core, chosen at run time on CPUs that have it.
option(AGF_DISPATCH_AVX2 "Build an AVX2/FMA variant of the core for run-time dispatch (x86-64)" ON)

function(agf_configure_flags target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE $<$<CONFIG:Release>:-O3> -Wall -Wextra -Wno-unused-parameter)
    if(AGF_NATIVE_ARCH)
      target_compile_options(${target} PRIVATE -march=native)
    endif()
  elseif(MSVC)
    target_compile_options(${target} PRIVATE $<$<CONFIG:Release>:/O2>)
  endif()
endfunction()
