# `cmake --install build --prefix PREFIX`: headers under include/dojo (the source layout), the module
# libraries, the dojo command, its presets under share/dojo/configs (where the command looks), a CMake
# package (find_package(dojo) -> dojo::core, dojo::envs, dojo::nn, dojo::prob, dojo::rl) and dojo.pc.
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dojo
        FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/dojo/configs)
# Shipped models (models/*.ckpt, weights only; a rule folder with its config and curve) under
# share/dojo/models, where `dojo mol` and `dojo lpg` look.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/dojo/models
        FILES_MATCHING PATTERN "*.ckpt" PATTERN "*.yaml" PATTERN "*.csv")
install(TARGETS dojo RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(dojo_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/dojo)
install(EXPORT dojoTargets NAMESPACE dojo:: DESTINATION ${dojo_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/dojoConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/dojoConfig.cmake INSTALL_DESTINATION ${dojo_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/dojoConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/dojoConfig.cmake ${PROJECT_BINARY_DIR}/dojoConfigVersion.cmake
        DESTINATION ${dojo_cmake_dir})

# pkg-config: the prefix is found from the .pc file's own place, so `--prefix` at install time holds.
file(RELATIVE_PATH DOJO_PC_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
set(DOJO_PC_TORCH_CFLAGS ${TORCH_INCLUDE_DIRS})
list(TRANSFORM DOJO_PC_TORCH_CFLAGS PREPEND "-I")
list(APPEND DOJO_PC_TORCH_CFLAGS ${TORCH_CXX_FLAGS})
list(JOIN DOJO_PC_TORCH_CFLAGS " " DOJO_PC_TORCH_CFLAGS)
get_filename_component(DOJO_PC_TORCH_LIBDIR ${TORCH_LIBRARY} DIRECTORY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/dojo.pc.in ${PROJECT_BINARY_DIR}/dojo.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/dojo.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
