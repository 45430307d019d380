# Install-time half of packaging/CMakeLists.txt: the example config, unless the operator
# already has one (the package's copy is a conffile, which dpkg guards on its own).
set(target $ENV{DESTDIR}${gatewayd_config_dir}/gateway.yaml)
if(EXISTS ${target})
  message(STATUS "Keeping: ${target} (an existing config is never overwritten)")
else()
  # file(INSTALL) puts DESTDIR in front of an absolute destination itself.
  file(INSTALL ${gatewayd_config_source} DESTINATION ${gatewayd_config_dir}
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
