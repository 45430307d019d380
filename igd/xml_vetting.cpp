#include "xml_vetting.hpp"

#include <expat.h>

#include <memory>

#include "igd/http_request_reader.hpp"

namespace gw {
namespace {

struct Vetting {
    XML_Parser parser = nullptr;
    std::size_t depth = 0, elements = 0;
    bool refused = false;

    void refuse() {
        if (refused) return;
        refused = true;
        XML_StopParser(parser, XML_FALSE);
    }
};

Vetting& vetting_of(void* data) { return *static_cast<Vetting*>(data); }

void on_start(void* data, const XML_Char*, const XML_Char**) {
    auto& v = vetting_of(data);
    if (++v.depth > xml_max_depth || ++v.elements > xml_max_elements) v.refuse();
}

void on_end(void* data, const XML_Char*) { --vetting_of(data).depth; }

void on_doctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) { vetting_of(data).refuse(); }

void on_entity_declaration(void* data, const XML_Char*, int, const XML_Char*, int, const XML_Char*, const XML_Char*,
                           const XML_Char*, const XML_Char*) {
    vetting_of(data).refuse();
}

void on_processing_instruction(void* data, const XML_Char*, const XML_Char*) { vetting_of(data).refuse(); }

void on_comment(void* data, const XML_Char*) { vetting_of(data).refuse(); }

void on_skipped_entity(void* data, const XML_Char*, int) { vetting_of(data).refuse(); }

// Only UTF-8 (the SOAP default) or its ASCII subset: libixml reads bytes, not encodings.
void on_xml_declaration(void* data, const XML_Char*, const XML_Char* encoding, int) {
    if (encoding && !equals_ignoring_case(encoding, "utf-8") && !equals_ignoring_case(encoding, "us-ascii"))
        vetting_of(data).refuse();
}

}  // namespace

bool vet_xml_body(std::string_view body) {
    if (body.empty() || body.size() > xml_max_bytes) return false;
    std::unique_ptr<std::remove_pointer_t<XML_Parser>, decltype(&XML_ParserFree)> parser(XML_ParserCreate("UTF-8"),
                                                                                        &XML_ParserFree);
    if (!parser) return false;
    Vetting vetting;
    vetting.parser = parser.get();
    XML_SetUserData(parser.get(), &vetting);
    XML_SetElementHandler(parser.get(), &on_start, &on_end);
    XML_SetStartDoctypeDeclHandler(parser.get(), &on_doctype);
    XML_SetEntityDeclHandler(parser.get(), &on_entity_declaration);
    XML_SetProcessingInstructionHandler(parser.get(), &on_processing_instruction);
    XML_SetCommentHandler(parser.get(), &on_comment);
    XML_SetSkippedEntityHandler(parser.get(), &on_skipped_entity);
    XML_SetXmlDeclHandler(parser.get(), &on_xml_declaration);
    // No external entity is ever fetched, and no parameter entity is read.
    XML_SetParamEntityParsing(parser.get(), XML_PARAM_ENTITY_PARSING_NEVER);
    auto status = XML_Parse(parser.get(), body.data(), int(body.size()), XML_TRUE);
    return status == XML_STATUS_OK && !vetting.refused;
}

}  // namespace gw
