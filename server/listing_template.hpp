#pragma once
// The directory-listing page template, www/listing.html compiled into the binary so that mpserve
// needs no files at run time besides the ones it serves.

#include <string_view>

namespace mpserve {

// The template text, with {{title}}, {{path}} and {{rows}} for render_directory_listing.
std::string_view default_listing_template();

}  // namespace mpserve
