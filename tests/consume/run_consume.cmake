# cmake -P driver of the consume_installed_package test (see CMakeLists.txt): install, configure,
# build and run the consumer, run the installed qfloat command. Any failure stops with the
# step's output.
function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}")
  endif()
  message(STATUS "${what}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

run_step("cmake --install" ${CMAKE_COMMAND} --install ${QFLOAT_BUILD_DIR} --prefix ${prefix}
         --config ${BUILD_TYPE})

# The installed package must not point back into the source or build tree.
file(GLOB_RECURSE package_files ${prefix}/*.cmake)
foreach(file IN LISTS package_files)
  file(READ ${file} text)
  foreach(tree ${SOURCE_DIR} ${QFLOAT_BUILD_DIR})
    string(FIND "${text}" "${tree}/" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${file} refers to ${tree}: the package is not relocatable")
    endif()
  endforeach()
endforeach()

string(REPLACE "," ";" expected "${EXPECTED_TARGETS}")
string(REPLACE ";" "," expected_arg "${expected}")
run_step("configure the consumer" ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE} -B ${build}
         -G ${GENERATOR}
         -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
         -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
         -DCMAKE_PREFIX_PATH=${prefix}
         -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
         "-DCMAKE_CXX_FLAGS=${CONSUMER_FLAGS}"
         "-DCMAKE_EXE_LINKER_FLAGS=${CONSUMER_FLAGS}"
         -DQFLOAT_EXPECTED_TARGETS=${expected_arg}
         -DQFLOAT_EXPECT_CLI=${EXPECT_CLI})
run_step("build the consumer" ${CMAKE_COMMAND} --build ${build} --config ${BUILD_TYPE})
run_step("run the consumer" ${build}/qfloat_consumer)
message(STATUS "${step_output}")
if(NOT step_output MATCHES "consumer ok")
  message(FATAL_ERROR "the consumer did not report success:\n${step_output}")
endif()

if(EXPECT_CLI)
  file(WRITE ${WORK_DIR}/encode.in "43e80000 3f800000\n")
  execute_process(COMMAND ${prefix}/bin/qfloat encode -f e4m3fn
                  INPUT_FILE ${WORK_DIR}/encode.in RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT out STREQUAL "7e\n38\n")
    message(FATAL_ERROR "installed qfloat encode: exit ${rc}, stdout '${out}', stderr '${err}'")
  endif()
  message(STATUS "installed qfloat encode: ok")
endif()
