#include "directory_listing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "listing_template.hpp"
#include "path_resolver.hpp"

namespace {

using mpserve::html_escape;
using mpserve::listing_entry;
using mpserve::percent_encode_path_segment;
using mpserve::render_directory_listing;

// Only the rows, so that tests read the part they are about.
constexpr std::string_view rows_only = "{{rows}}";

std::vector<std::string> hrefs_in(const std::string& html) {
  std::vector<std::string> hrefs;
  const std::regex href(R"re(<a href="([^"]*)">)re");
  for (std::sregex_iterator it(html.begin(), html.end(), href), end; it != end; ++it)
    hrefs.push_back((*it)[1]);
  return hrefs;
}

TEST(HtmlEscape, EscapesTheFiveSpecialCharacters) {
  EXPECT_EQ(html_escape("<a href=\"x\" title='y'>&amp;</a>"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
  EXPECT_EQ(html_escape("plain \xc3\xa9t\xc3\xa9 100%"), "plain \xc3\xa9t\xc3\xa9 100%");
  EXPECT_EQ(html_escape(""), "");
}

TEST(PercentEncodePathSegment, KeepsOnlyUnreserved) {
  EXPECT_EQ(percent_encode_path_segment("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percent_encode_path_segment("a b"), "a%20b");
  EXPECT_EQ(percent_encode_path_segment("100%"), "100%25");
  EXPECT_EQ(percent_encode_path_segment("a#b?c"), "a%23b%3Fc");
  EXPECT_EQ(percent_encode_path_segment("a:b"), "a%3Ab");  // not read as a URI scheme
  EXPECT_EQ(percent_encode_path_segment("a/b"), "a%2Fb");
  EXPECT_EQ(percent_encode_path_segment("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(percent_encode_path_segment(std::string_view("\0\n\xff", 3)), "%00%0A%FF");
}

TEST(PercentEncodePathSegment, RoundTripsEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string decoded;
  ASSERT_TRUE(mpserve::percent_decode(percent_encode_path_segment(all), decoded));
  EXPECT_EQ(decoded, all);
}

TEST(RenderDirectoryListing, DirectoriesFirstThenFilesInByteOrder) {
  const auto html = render_directory_listing(rows_only, "/",
                                             {{"b.txt", false, 1, 0},
                                              {"Zeta", true, 0, 0},
                                              {"a.txt", false, 1, 0},
                                              {"alpha", true, 0, 0},
                                              {"B.txt", false, 1, 0},
                                              {"\xc3\xa9t\xc3\xa9", false, 1, 0}});
  EXPECT_EQ(hrefs_in(html), (std::vector<std::string>{"Zeta/", "alpha/", "B.txt", "a.txt", "b.txt",
                                                      "%C3%A9t%C3%A9"}));
}

TEST(RenderDirectoryListing, ParentLinkExceptAtTheRoot) {
  EXPECT_TRUE(hrefs_in(render_directory_listing(rows_only, "/", {})).empty());
  EXPECT_EQ(hrefs_in(render_directory_listing(rows_only, "/sub/", {{"f", false, 0, 0}})),
            (std::vector<std::string>{"../", "f"}));
}

TEST(RenderDirectoryListing, HostileNamesAreEscapedInTextAndEncodedInHref) {
  const std::vector<listing_entry> entries = {{"<script>alert(1)</script>", false, 1, 0},
                                              {"a&b", false, 1, 0},
                                              {"say \"hi\" 'x'", false, 1, 0},
                                              {"with space", true, 0, 0},
                                              {"100%", false, 1, 0},
                                              {"#frag", false, 1, 0},
                                              {"q?x=1", false, 1, 0},
                                              {"line\nbreak", false, 1, 0},
                                              {"\xe6\x97\xa5\xe6\x9c\xac.txt", false, 1, 0},
                                              {"a:b", false, 1, 0}};
  const auto html = render_directory_listing(rows_only, "/", entries);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find(">&lt;script&gt;alert(1)&lt;/script&gt;</a>"), std::string::npos);
  EXPECT_NE(html.find(">a&amp;b</a>"), std::string::npos);
  EXPECT_NE(html.find(">say &quot;hi&quot; &#39;x&#39;</a>"), std::string::npos);
  EXPECT_NE(html.find(R"(<a href="with%20space/">with space/</a>)"), std::string::npos);
  EXPECT_NE(html.find(R"(<a href="100%25">100%</a>)"), std::string::npos);
  EXPECT_NE(html.find(R"(<a href="%23frag">)"), std::string::npos);
  EXPECT_NE(html.find(R"(<a href="q%3Fx%3D1">)"), std::string::npos);
  EXPECT_NE(html.find(R"(<a href="line%0Abreak">)"), std::string::npos);

  // Every href decodes back to exactly one name, plus the directory's slash.
  const auto hrefs = hrefs_in(html);
  ASSERT_EQ(hrefs.size(), entries.size());
  std::vector<std::string> decoded_names;
  for (const auto& href : hrefs) {
    EXPECT_EQ(href.find_first_of("\"'<> \n#?:"), std::string::npos) << href;
    // One relative segment: a '/' only as a directory's last character.
    const auto slash = href.find('/');
    EXPECT_TRUE(slash == std::string::npos || slash == href.size() - 1) << href;
    std::string decoded;
    ASSERT_TRUE(mpserve::percent_decode(href.substr(0, slash), decoded)) << href;
    decoded_names.push_back(decoded);
  }
  for (const auto& entry : entries)
    EXPECT_NE(std::find(decoded_names.begin(), decoded_names.end(), entry.name),
              decoded_names.end())
        << entry.name;
}

TEST(RenderDirectoryListing, SizesAreHumanWithExactBytesAlongside) {
  const auto html = render_directory_listing(
      rows_only, "/", {{"big.iso", false, 5368709120ull, 0}, {"d", true, 123, 0}});
  EXPECT_NE(html.find(R"(data-bytes="5368709120" title="5368709120 bytes">5.00 GiB</td>)"),
            std::string::npos);
  // A directory shows no size, like nginx's "-".
  EXPECT_NE(html.find(R"(<a href="d/">d/</a></td><td class="size">-</td>)"), std::string::npos);
  EXPECT_EQ(html.find("data-bytes=\"123\""), std::string::npos);
}

TEST(RenderDirectoryListing, DatesAreUtcToTheMinute) {
  // 2026-11-25 22:14:59 UTC.
  const auto html = render_directory_listing(rows_only, "/", {{"f", false, 1, 1795644899}});
  EXPECT_NE(html.find(R"(<time datetime="2026-11-25T22:14:59Z">2026-11-25 22:14</time>)"),
            std::string::npos);
}

TEST(RenderDirectoryListing, FillsTitleAndEscapedPathOnce) {
  const auto html = render_directory_listing(
      "<title>{{title}}</title><h1>{{path}}</h1>{{unknown}}{{", "/a<b>&{{rows}}/", {});
  EXPECT_EQ(html,
            "<title>Index of /a&lt;b&gt;&amp;{{rows}}/</title>"
            "<h1>/a&lt;b&gt;&amp;{{rows}}/</h1>{{unknown}}{{");
}

TEST(RenderDirectoryListing, PlaceholdersMayRepeat) {
  EXPECT_EQ(render_directory_listing("{{path}}|{{path}}", "/x/", {}), "/x/|/x/");
}

TEST(DefaultListingTemplate, IsWwwListingHtmlByteForByte) {
  const auto embedded = mpserve::default_listing_template();
  std::ifstream file(MPSERVE_SOURCE_DIR "/www/listing.html", std::ios::binary);
  ASSERT_TRUE(file) << "www/listing.html not found from the test";
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_EQ(embedded, text.str());
}

TEST(DefaultListingTemplate, HasEveryPlaceholderAndNoScriptOrRemoteResource) {
  const auto page = mpserve::default_listing_template();
  EXPECT_NE(page.find("{{title}}"), std::string_view::npos);
  EXPECT_NE(page.find("{{path}}"), std::string_view::npos);
  EXPECT_NE(page.find("{{rows}}"), std::string_view::npos);
  EXPECT_EQ(page.find("<script"), std::string_view::npos);
  EXPECT_EQ(page.find("http://"), std::string_view::npos);
  EXPECT_EQ(page.find("https://"), std::string_view::npos);
  EXPECT_EQ(page.find("url("), std::string_view::npos);
}

TEST(DefaultListingTemplate, RendersACompletePage) {
  const auto html = render_directory_listing(mpserve::default_listing_template(), "/pub/",
                                             {{"file.iso", false, 2048, 0}});
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(html.find("<title>Index of /pub/</title>"), std::string::npos);
  EXPECT_NE(html.find(R"(<a href="../">../</a>)"), std::string::npos);
  EXPECT_NE(html.find(R"(<a href="file.iso">file.iso</a>)"), std::string::npos);
  EXPECT_EQ(html.find("{{"), std::string::npos);
}

}  // namespace
