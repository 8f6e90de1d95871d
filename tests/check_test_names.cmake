# ctest names must be short (at most 127 characters: test reports and CDash cut or reject
# longer ones) and the same in every build: no pointers or raw memory from a parameter that
# GoogleTest could not print (that changes with each build and makes results incomparable).
# Run by ctest (test ctest_names_are_short_and_stable):
#   cmake -DCTEST=<ctest> -DBUILD_DIR=<top build dir> -P check_test_names.cmake
execute_process(COMMAND "${CTEST}" -N WORKING_DIRECTORY "${BUILD_DIR}"
                OUTPUT_VARIABLE listing RESULT_VARIABLE status)
if(NOT status EQUAL 0)
    message(FATAL_ERROR "ctest -N failed in ${BUILD_DIR}")
endif()
string(REPLACE "\n" ";" lines "${listing}")
set(count 0)
set(bad "")
foreach(line IN LISTS lines)
    if(NOT line MATCHES "^ *Test +#[0-9]+: (.*)$")
        continue()
    endif()
    set(name "${CMAKE_MATCH_1}")
    math(EXPR count "${count} + 1")
    string(LENGTH "${name}" length)
    if(length GREATER 127)
        string(APPEND bad "  ${length} characters: ${name}\n")
    endif()
    if(name MATCHES "0x[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]"
       OR name MATCHES "-byte object <"
       OR name MATCHES "[0-9A-F][0-9A-F]-[0-9A-F][0-9A-F] [0-9A-F][0-9A-F]-[0-9A-F][0-9A-F]")
        string(APPEND bad "  memory or a pointer in the name: ${name}\n")
    endif()
endforeach()
if(count EQUAL 0)
    message(FATAL_ERROR "no tests listed by ctest -N in ${BUILD_DIR}:\n${listing}")
endif()
if(NOT bad STREQUAL "")
    message(FATAL_ERROR "test names too long or not the same in every build (give the "
                        "parameter a PrintTo, or the discovery NO_PRETTY_VALUES):\n${bad}")
endif()
message(STATUS "${count} test names, all at most 127 characters, no pointers or raw memory")
