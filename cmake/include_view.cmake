# gw_include_view(TARGET FOLDERS f... [FILES path...]): the layering, enforced by the
# compiler. A library sees only its own folder through its include path (a directory of
# links under build/include_views/TARGET), and what it links (PUBLIC, so it passes on),
# never the repository root. `#include "daemon/x.hpp"` in igd/ is then "No such file":
# nothing in gw_igd's link line brings daemon/'s view. FILES lets a library see single
# headers of a folder it does not link (config/ reads firewall/firewall_config.hpp, a
# header-only description of what the firewall is configured with).
#
# The links are made at configure time and only added: a folder dropped from a view
# stays visible in an old build tree until build/include_views is removed.
function(gw_include_view target)
  cmake_parse_arguments(VIEW "" "" "FOLDERS;FILES" ${ARGN})
  set(view ${CMAKE_BINARY_DIR}/include_views/${target})
  file(MAKE_DIRECTORY ${view})
  foreach(entry ${VIEW_FOLDERS} ${VIEW_FILES})
    get_filename_component(parent ${view}/${entry} DIRECTORY)
    file(MAKE_DIRECTORY ${parent})
    if(NOT IS_SYMLINK ${view}/${entry})
      file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${entry} ${view}/${entry} SYMBOLIC)
    endif()
  endforeach()
  target_include_directories(${target} PUBLIC ${view})
endfunction()
