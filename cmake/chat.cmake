# Project-wide build conventions. Everything here is scoped to targets that opt in
# through chat_project_target(); third-party headers stay outside -Werror.

if(CHAT_SANITIZE)
  # Sanitizers must reach every translation unit and the link, so they are the one
  # directory-wide setting.
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# chat_project_target(<target>): warnings as errors for the project's own code.
function(chat_project_target target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
  if(CMAKE_UNITY_BUILD)
    # A unity build #includes each .cpp, so GCC takes a class defined in a .cpp with a member
    # of that file's anonymous namespace for one defined in a header.
    target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
  endif()
endfunction()

# chat_unit_test(<name> SOURCES ... LIBS ...): a GoogleTest binary registered with CTest.
function(chat_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  chat_project_target(${name})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} chat_test_support GTest::gtest_main GTest::gmock)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 120)
  add_dependencies(unit_tests ${name})
endfunction()
