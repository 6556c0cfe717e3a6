# Warnings at zero: every qfloat target gets these through qfloat_set_warnings().
function(qfloat_set_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wshadow=local -Wno-psabi>
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${QFLOAT_WERROR}>>:-Werror>)
endfunction()
