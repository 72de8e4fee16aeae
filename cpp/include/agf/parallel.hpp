// Thread-count helpers. Thread counts are always passed explicitly; without OpenMP everything
// runs serially and has_openmp() says so.
#pragma once
#ifdef AGF_HAS_OPENMP
#include <omp.h>
#endif

namespace agf {

inline bool has_openmp() {
#ifdef AGF_HAS_OPENMP
  return true;
#else
  return false;
#endif
}

inline int max_threads() {
#ifdef AGF_HAS_OPENMP
  return omp_get_num_procs();
#else
  return 1;
#endif
}

inline int thread_id() {
#ifdef AGF_HAS_OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

}  // namespace agf
