# OpenMP is optional. When found, kernels run their batch loops in parallel; the module reports
# the outcome at run time as agf._core.has_openmp.
option(AGF_USE_OPENMP "Use OpenMP when available" ON)

function(agf_configure_openmp target)
  if(AGF_USE_OPENMP)
    find_package(OpenMP COMPONENTS CXX)
    if(OpenMP_CXX_FOUND)
      target_link_libraries(${target} PRIVATE OpenMP::OpenMP_CXX)
      target_compile_definitions(${target} PRIVATE AGF_HAS_OPENMP=1)
      message(STATUS "agf: OpenMP enabled")
      return()
    endif()
  endif()
  message(STATUS "agf: building without OpenMP (serial kernels)")
endfunction()
