# The qfloat CMake package: the headers, the format files, the export set and a
# qfloatConfig.cmake that find_dependency()s exactly the packages the exported libraries link.
#
# Each layer installs its own library into the export set, next to add_library:
#   if(QFLOAT_ENABLE_INSTALL)
#     install(TARGETS qfloat_<layer> EXPORT qfloat-targets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
#   endif()
# (installing a target twice into one export set is a CMake error, so this file does not install
# them again). Every library target under src/ is expected in the package unless it sets the
# target property QFLOAT_NO_INSTALL; tests/consume checks that each one is importable from an
# install prefix, so a layer that forgets its install() fails that test by name.

# Library targets defined in `dir` and below.
function(_qfloat_collect_libraries dir out)
  set(libraries)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    get_target_property(skip ${target} QFLOAT_NO_INSTALL)
    if(type MATCHES "^(STATIC|SHARED|INTERFACE|OBJECT)_LIBRARY$" AND NOT skip)
      list(APPEND libraries ${target})
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    _qfloat_collect_libraries(${subdir} more)
    list(APPEND libraries ${more})
  endforeach()
  set(${out} ${libraries} PARENT_SCOPE)
endfunction()

# The package that provides an imported target's namespace (find_dependency's argument).
function(_qfloat_package_of namespace out)
  set(known_Threads Threads)
  set(known_hwy hwy)
  set(known_tomlplusplus tomlplusplus)
  set(known_nlohmann_json nlohmann_json)
  set(known_CUDA CUDAToolkit)
  set(known_libzip libzip)
  set(known_Boost Boost)
  set(known_Eigen3 Eigen3)
  set(known_CLI11 CLI11)
  set(known_OpenMP "OpenMP COMPONENTS CXX")
  set(known_ZLIB ZLIB)
  if(DEFINED known_${namespace})
    set(${out} "${known_${namespace}}" PARENT_SCOPE)
  else()
    message(WARNING "qfloat install: no package known for ${namespace}::; assuming "
                    "find_dependency(${namespace}) (add it to cmake/QfloatInstall.cmake)")
    set(${out} ${namespace} PARENT_SCOPE)
  endif()
endfunction()

function(qfloat_install_package)
  _qfloat_collect_libraries(${PROJECT_SOURCE_DIR}/src libraries)
  if(NOT libraries)
    message(FATAL_ERROR "qfloat install: no library targets under src/")
  endif()

  set(dependencies)
  foreach(target IN LISTS libraries)
    get_target_property(export_name ${target} EXPORT_NAME)
    if(NOT export_name AND target MATCHES "^qfloat_(.+)$")
      # qfloat_simd -> qfloat::simd
      set_target_properties(${target} PROPERTIES EXPORT_NAME ${CMAKE_MATCH_1})
    endif()
    # Static libraries carry their private dependencies as $<LINK_ONLY:...> here too.
    get_target_property(links ${target} INTERFACE_LINK_LIBRARIES)
    if(links)
      # Build-tree-only dependencies are not the installed package's business.
      string(REGEX REPLACE "\\$<BUILD_INTERFACE:[^>]*>" "" links "${links}")
      string(REGEX MATCHALL "[A-Za-z0-9_]+::[A-Za-z0-9_.+-]+" imported "${links}")
      foreach(dep IN LISTS imported)
        string(REGEX REPLACE "::.*" "" namespace "${dep}")
        if(NOT namespace STREQUAL "qfloat")
          _qfloat_package_of(${namespace} package)
          list(APPEND dependencies "${package}")
        endif()
      endforeach()
    endif()
  endforeach()
  list(REMOVE_DUPLICATES dependencies)
  set(QFLOAT_PACKAGE_DEPENDENCIES "")
  foreach(package IN LISTS dependencies)
    string(APPEND QFLOAT_PACKAGE_DEPENDENCIES "find_dependency(${package})\n")
  endforeach()
  list(JOIN libraries " " QFLOAT_PACKAGE_TARGETS)
  message(STATUS "qfloat package: ${QFLOAT_PACKAGE_TARGETS}; dependencies: ${dependencies}")
  # For tests/consume: the targets a consumer must be able to import.
  set(QFLOAT_PACKAGE_LIBRARIES ${libraries} PARENT_SCOPE)

  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/qfloat DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  set(QFLOAT_INSTALL_FORMATSDIR ${CMAKE_INSTALL_DATADIR}/qfloat/formats)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/formats/ DESTINATION ${QFLOAT_INSTALL_FORMATSDIR}
    FILES_MATCHING PATTERN "*.toml")
  set(QFLOAT_INSTALL_BINDIR ${CMAKE_INSTALL_BINDIR})

  set(config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/qfloat)
  install(EXPORT qfloat-targets NAMESPACE qfloat:: DESTINATION ${config_dir})
  include(CMakePackageConfigHelpers)
  configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/qfloatConfig.cmake.in
    ${PROJECT_BINARY_DIR}/qfloatConfig.cmake
    INSTALL_DESTINATION ${config_dir}
    PATH_VARS QFLOAT_INSTALL_FORMATSDIR QFLOAT_INSTALL_BINDIR)
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/qfloatConfigVersion.cmake
    COMPATIBILITY SameMajorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/qfloatConfig.cmake
    ${PROJECT_BINARY_DIR}/qfloatConfigVersion.cmake
    DESTINATION ${config_dir})
endfunction()
