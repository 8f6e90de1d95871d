// Runs a program with given stdin and captures stdout, stderr and the exit status.
#pragma once

#include <string>
#include <vector>

namespace evn_mbus::test {

struct process_result {
    int status = -1;  // exit status, or -1 if it did not exit normally
    std::string out;
    std::string err;
};

process_result run_process(const std::vector<std::string>& argv, const std::string& input = {});

}  // namespace evn_mbus::test
