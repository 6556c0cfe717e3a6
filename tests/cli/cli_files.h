// Helpers for the CLI tests that work on files (quantize, verify, analyze, predict): fixture
// paths, reading files back, JSON, and an XML well-formedness check of SVG output (expat).
#ifndef QFLOAT_TESTS_CLI_CLI_FILES_H_
#define QFLOAT_TESTS_CLI_CLI_FILES_H_

#include <expat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "run_cli.h"

namespace qfloat::cli_test {

inline std::string IoFixture(const std::string& name) {
  return std::string(QFLOAT_TEST_DATA_DIR) + "/io/" + name;
}
inline std::string CliFixture(const std::string& name) {
  return std::string(QFLOAT_TEST_DATA_DIR) + "/cli/" + name;
}

inline std::string ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline nlohmann::json ReadJson(const std::string& path) {
  return nlohmann::json::parse(ReadFileText(path));
}

// A fresh directory under the test's scratch directory.
inline std::string ScratchSubdir(const std::string& name) {
  const std::string dir = ScratchDir() + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Files in `dir` whose name starts with '.' (AtomicFileWriter's temporaries are ".NAME.tmp-*").
inline std::vector<std::string> HiddenFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (!n.empty() && n[0] == '.') out.push_back(n);
  }
  return out;
}

// What an SVG document holds, as expat parsed it.
struct SvgInfo {
  bool well_formed = false;
  std::string error;
  std::string root;
  size_t elements = 0;
  size_t series = 0;               // <g class="series ..."> groups (one per plotted series)
  std::vector<std::string> texts;  // character data of <text> and <title> elements
};

inline SvgInfo ParseSvg(const std::string& text) {
  struct State {
    SvgInfo info;
    int in_text = 0;
    std::string current;
  } state;
  XML_Parser p = XML_ParserCreate("UTF-8");
  XML_SetUserData(p, &state);
  XML_SetElementHandler(
      p,
      [](void* data, const XML_Char* name, const XML_Char** attrs) {
        auto* s = static_cast<State*>(data);
        const std::string n = name;
        if (s->info.elements++ == 0) s->info.root = n;
        for (size_t a = 0; attrs[a] != nullptr; a += 2) {
          if (n == "g" && std::string(attrs[a]) == "class" &&
              std::string(attrs[a + 1]).rfind("series", 0) == 0) {
            ++s->info.series;
          }
        }
        if (n == "text" || n == "title") {
          ++s->in_text;
          s->current.clear();
        }
      },
      [](void* data, const XML_Char* name) {
        auto* s = static_cast<State*>(data);
        const std::string n = name;
        if ((n == "text" || n == "title") && s->in_text > 0) {
          --s->in_text;
          s->info.texts.push_back(s->current);
        }
      });
  XML_SetCharacterDataHandler(p, [](void* data, const XML_Char* chars, int len) {
    auto* s = static_cast<State*>(data);
    if (s->in_text > 0) s->current.append(chars, static_cast<size_t>(len));
  });
  if (XML_Parse(p, text.data(), static_cast<int>(text.size()), 1) == XML_STATUS_ERROR) {
    state.info.error = std::string(XML_ErrorString(XML_GetErrorCode(p))) + " at line " +
                       std::to_string(XML_GetCurrentLineNumber(p));
  } else {
    state.info.well_formed = true;
  }
  XML_ParserFree(p);
  return state.info;
}

inline bool SvgHasText(const SvgInfo& svg, const std::string& text) {
  for (const std::string& t : svg.texts) {
    if (t.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace qfloat::cli_test

#endif  // QFLOAT_TESTS_CLI_CLI_FILES_H_
