# Install-time half of packaging/CMakeLists.txt: writes gatewayd.service with the paths
# of this install (CMAKE_INSTALL_PREFIX is the package's /usr under CPack).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(unit_dir /lib/systemd/system)
else()
  set(unit_dir ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
set(sbindir ${CMAKE_INSTALL_PREFIX}/${gatewayd_sbindir})
set(configdir ${gatewayd_config_dir})
configure_file(${gatewayd_unit_source} $ENV{DESTDIR}${unit_dir}/gatewayd.service @ONLY)
message(STATUS "Installing: $ENV{DESTDIR}${unit_dir}/gatewayd.service (ExecStart=${sbindir}/gatewayd)")
